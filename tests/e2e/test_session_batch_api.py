"""POST /v1/sessions/batch over real HTTP: each session is answered as if posted alone, in
request order; a bad one is refused alone and the good ones are recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Tenant
from tests.e2e.ledger_story import customer

ENDED = datetime.now(UTC) - timedelta(hours=1)


def a_session(customer_id: str, cost: int, **overrides: Any) -> dict[str, Any]:
    return {
        "session_id": f"B-{uuid.uuid4().hex[:12]}",
        "customer_id": customer_id,
        "started_at": (ENDED - timedelta(minutes=40)).isoformat(),
        "ended_at": ENDED.isoformat(),
        "energy_wh": 9_000,
        "cost_minor": cost,
        **overrides,
    }


def post_batch(tenant: Tenant, sessions: list[Any]) -> Any:
    return tenant.emp.post("/v1/sessions/batch", json={"sessions": sessions})


def test_each_session_of_a_batch_is_answered_as_if_posted_alone(tenant: Tenant, other_tenant: Tenant) -> None:
    ann = customer(tenant, "postpaid")["id"]
    stranger = customer(other_tenant, "postpaid")["id"]
    first = a_session(ann, 100)
    assert tenant.emp.post("/v1/sessions", json=first).status_code == 201
    batch = [
        a_session(ann, 200),
        first,  # recorded before: the first answer again
        {**first, "cost_minor": 999},  # other data under a used session_id
        a_session(ann, 10, ended_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()),
        a_session(stranger, 10),  # another EMP's customer
        {**a_session(ann, 10), "energy_wh": "a lot"},  # not a session
        a_session(ann, 50),
    ]

    response = post_batch(tenant, batch)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["session_id"] for result in results] == [item["session_id"] for item in batch]
    assert [result["status"] for result in results] == [201, 200, 409, 422, 404, 400, 201]
    assert [result.get("balance_minor") for result in results] == [-300, -100, None, None, None, None, -350]
    problems = [result.get("problem") for result in results]
    assert problems[2]["type"].endswith("/duplicate")
    assert problems[3]["type"].endswith("/invalid-period") and problems[3]["errors"][0]["field"] == "ended_at"
    assert problems[4]["type"].endswith("/not-found")
    assert (
        problems[5]["type"].endswith("/validation-error") and problems[5]["errors"][0]["field"] == "energy_wh"
    )
    assert tenant.emp.get(f"/v1/customers/{ann}/balance").json()["balance_minor"] == -350
    assert other_tenant.emp.get(f"/v1/customers/{stranger}/balance").json()["balance_minor"] == 0


def test_a_batch_sent_again_charges_nothing_twice(tenant: Tenant) -> None:
    ann = customer(tenant, "prepaid")["id"]
    batch = [a_session(ann, 100 + n) for n in range(20)]

    once = post_batch(tenant, batch).json()["results"]
    again = post_batch(tenant, batch).json()["results"]

    assert {result["status"] for result in once} == {201}
    assert {result["status"] for result in again} == {200}
    assert [r["balance_minor"] for r in again] == [r["balance_minor"] for r in once]
    transactions = tenant.emp.get(f"/v1/customers/{ann}/transactions?limit=100").json()["items"]
    assert len(transactions) == 20
    assert tenant.emp.get(f"/v1/customers/{ann}/balance").json()["balance_minor"] == -sum(range(100, 120))


def test_more_than_a_thousand_sessions_are_refused_whole(tenant: Tenant) -> None:
    ann = customer(tenant, "postpaid")["id"]
    batch = [a_session(ann, 1, location="X") for _ in range(1001)]

    response = post_batch(tenant, batch)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/payload-too-large")
    assert tenant.emp.get(f"/v1/customers/{ann}/balance").json()["balance_minor"] == 0


def test_a_thousand_sessions_are_recorded(tenant: Tenant) -> None:
    customers = [customer(tenant, "postpaid")["id"] for _ in range(5)]
    batch = [a_session(customers[n % 5], 1 + n % 7) for n in range(1000)]

    response = post_batch(tenant, batch)

    assert response.status_code == 200, response.text
    assert {result["status"] for result in response.json()["results"]} == {201}
    balances = [tenant.emp.get(f"/v1/customers/{c}/balance").json()["balance_minor"] for c in customers]
    assert sum(balances) == -sum(1 + n % 7 for n in range(1000))


def test_a_batch_that_is_not_a_list_of_sessions_is_a_validation_error(tenant: Tenant) -> None:
    response = tenant.emp.post("/v1/sessions/batch", json={"sessions": "all of them"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sessions"

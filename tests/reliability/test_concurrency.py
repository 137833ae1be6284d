"""Many clients at once, over real HTTP: no lost update, no double charge, no double debit.

Each test fires its requests from parallel threads released together by a barrier, so they
race inside the service (optimistic concurrency on the customer's stream, idempotency records,
the gateway's idempotency keys) rather than queueing in the client. Clients behave as the
contract asks: a 503 (a write that lost every retry of its race) is sent again, the same way.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import (
    CARD,
    balance,
    customer,
    define_catalog,
    problem_code,
    subscribe,
    transactions,
)

# Generous: a hung request fails the test instead of hanging the suite.
CLIENT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
RETRIES_AFTER_503 = 5

Call = Callable[[httpx.Client], httpx.Response]


def in_parallel(served: ServedApp, token: str, calls: list[Call]) -> list[httpx.Response]:
    """Run every call on its own thread and connection, all released at the same instant;
    a 503 is sent again after its Retry-After (bounded), as the contract tells clients to."""
    start = threading.Barrier(len(calls), timeout=30)

    def run(call: Call) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=served.base_url, headers=headers, timeout=CLIENT_TIMEOUT) as client:
            start.wait()
            response = call(client)
            for _ in range(RETRIES_AFTER_503):
                if response.status_code != 503:
                    break
                time.sleep(float(response.headers.get("retry-after", "1")))
                response = call(client)
            return response

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def session_body(customer_id: str, cost: int, session_id: str | None = None) -> dict[str, Any]:
    ended = datetime.now(UTC) - timedelta(minutes=2)
    return {
        "session_id": session_id or f"S-{uuid.uuid4().hex[:12]}",
        "customer_id": customer_id,
        "started_at": (ended - timedelta(minutes=30)).isoformat(),
        "ended_at": ended.isoformat(),
        "energy_wh": 8_000,
        "cost_minor": cost,
    }


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def assert_balance_is_its_transactions(tenant: Tenant, customer_id: str) -> list[dict[str, Any]]:
    rows = transactions(tenant, customer_id)
    assert balance(tenant, customer_id) == sum(row["amount_minor"] for row in rows)
    running = 0
    for row in rows:  # the list's running balance agrees with its own amounts, row by row
        running += row["amount_minor"]
        assert row["balance_after_minor"] == running, row
    return rows


def test_fifty_parallel_sessions_of_one_customer_are_all_charged_exactly(tenant: Tenant) -> None:
    # 50 writers on one customer's stream: every loser of the optimistic-concurrency race must
    # retry and land, so no session is lost (a lost update) and none is charged twice.
    ann = customer(tenant, "postpaid")
    costs = [100 + i for i in range(50)]
    calls = [
        (lambda client, cost=cost: client.post("/v1/sessions", json=session_body(ann["id"], cost)))
        for cost in costs
    ]

    responses = in_parallel(tenant.served, tenant.keys["emp"], calls)

    assert statuses(responses) == {201: 50}, [r.text for r in responses if r.status_code != 201][:3]
    assert balance(tenant, ann["id"]) == -sum(costs)
    rows = assert_balance_is_its_transactions(tenant, ann["id"])
    assert Counter(row["type"] for row in rows) == {"session": 50}
    assert sorted(-row["amount_minor"] for row in rows) == costs


def test_one_session_posted_twenty_times_at_once_is_charged_once(tenant: Tenant) -> None:
    # A charge point retrying a CDR in a burst: the natural key (session_id) makes it one charge,
    # and every answer carries the first one's body.
    ann = customer(tenant, "postpaid")
    body = session_body(ann["id"], 777, session_id=f"CDR-{uuid.uuid4().hex[:10]}")

    responses = in_parallel(
        tenant.served, tenant.keys["emp"], [lambda client: client.post("/v1/sessions", json=body)] * 20
    )

    assert statuses(responses) == {201: 1, 200: 19}, [r.text for r in responses if r.status_code >= 300]
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["balance_minor"] == -777
    assert balance(tenant, ann["id"]) == -777
    assert [row["amount_minor"] for row in transactions(tenant, ann["id"])] == [-777]


def test_parallel_manual_top_ups_charge_each_key_once_and_lose_no_credit(
    tenant: Tenant, served: ServedApp
) -> None:
    # 20 distinct top-ups, and 5 of them sent three times more: 35 requests racing. Each key
    # charges the card once (gateway_charges is the card's side of the story) and every
    # acknowledged credit is in the balance.
    ann = customer(tenant, "prepaid", card=CARD)
    amounts = {f"portal-{uuid.uuid4().hex[:10]}": 1000 + i for i in range(20)}
    requests = list(amounts.items()) + [item for item in list(amounts.items())[:5] for _ in range(3)]

    def top_up(key: str, amount: int) -> Callable[[httpx.Client], httpx.Response]:
        return lambda client: client.post(
            f"/v1/customers/{ann['id']}/top-ups",
            json={"amount_minor": amount},
            headers={"Idempotency-Key": key},
        )

    responses = in_parallel(tenant.served, tenant.keys["emp"], [top_up(k, a) for k, a in requests])

    assert statuses(responses) == {201: len(requests)}, [r.text for r in responses if r.status_code != 201]
    by_key: dict[str, set[bytes]] = {}
    for (key, _), response in zip(requests, responses, strict=True):
        by_key.setdefault(key, set()).add(response.content)
    assert all(len(bodies) == 1 for bodies in by_key.values()), "a repeated key got another answer"
    assert balance(tenant, ann["id"]) == sum(amounts.values())
    rows = assert_balance_is_its_transactions(tenant, ann["id"])
    assert sorted(row["amount_minor"] for row in rows) == sorted(amounts.values())
    with psycopg.connect(served.system.database_url) as conn:
        charges = conn.execute(
            "SELECT count(*), count(DISTINCT idempotency_key), sum(amount_minor) FROM gateway_charges"
            " WHERE idempotency_key = ANY(%s)",
            ([f"payment:{row['reference']}" for row in rows],),
        ).fetchone()
    assert charges == (20, 20, sum(amounts.values()))


def test_parallel_purchases_never_spend_more_than_the_prepaid_balance(tenant: Tenant) -> None:
    # 2000 of balance, a 500 bolt-on bought 12 times at once: exactly 4 purchases fit. The others
    # must see the debits of the winners (a stale balance would debit twice) and get 422.
    define_catalog(tenant)
    ann = customer(tenant, "prepaid", card=CARD)
    subscription = subscribe(tenant, ann["id"], "BASE-PRE")
    funded = tenant.emp.post(f"/v1/customers/{ann['id']}/top-ups", json={"amount_minor": 2000})
    assert funded.status_code == 201, funded.text

    responses = in_parallel(
        tenant.served,
        tenant.keys["emp"],
        [
            lambda client: client.post(
                f"/v1/subscriptions/{subscription['id']}/packages", json={"package": "ONCE"}
            )
        ]
        * 12,
    )

    assert statuses(responses) == {201: 4, 422: 8}, [r.text for r in responses if r.status_code >= 300]
    assert {problem_code(r) for r in responses if r.status_code == 422} == {"insufficient-balance"}
    assert balance(tenant, ann["id"]) == 0
    rows = assert_balance_is_its_transactions(tenant, ann["id"])
    assert all(row["balance_after_minor"] >= 0 for row in rows)
    assert sum(1 for row in rows if row["amount_minor"] == -500) == 4
    bought = tenant.emp.get(f"/v1/subscriptions/{subscription['id']}").json()["packages"]
    assert sum(1 for package in bought if package["code"] == "ONCE") == 4

"""Subscriptions over time, over HTTP on EMP test clocks: started in the past and caught up
exactly once, ended with a final prorated invoice and nothing after it, and a base package
changed mid-period with both packages prorated by days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.money import prorate
from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import (
    CARD,
    advance,
    customer,
    define_catalog,
    problem_code,
    session,
    subscribe,
    top_up,
    transactions,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def make(served: ServedApp, admin: httpx.Client) -> Iterator[Any]:
    made: list[Tenant] = []

    def tenant_at(now: datetime) -> Tenant:
        tenant = make_tenant(served, admin, test_clock=now)
        define_catalog(tenant)
        made.append(tenant)
        return tenant

    yield tenant_at
    for tenant in made:
        tenant.close()


def invoices(tenant: Tenant, customer_id: str) -> list[dict]:
    items: list[dict] = tenant.emp.get("/v1/invoices", params={"customer_id": customer_id}).json()["items"]
    return sorted(items, key=lambda invoice: invoice["period_start"])


def periods(tenant: Tenant, customer_id: str) -> list[tuple[str, str, int]]:
    return [(i["period_start"], i["period_end"], i["total_minor"]) for i in invoices(tenant, customer_id)]


def package_lines(invoice: dict) -> list[tuple[str, int]]:
    return [
        (line["reference"], line["amount_minor"]) for line in invoice["lines"] if line["kind"] == "package"
    ]


def moves(tenant: Tenant, customer_id: str, kind: str) -> list[int]:
    return [t["amount_minor"] for t in transactions(tenant, customer_id) if t["type"] == kind]


def start(tenant: Tenant, customer_id: str, base: str, started_at: datetime) -> dict:
    body = {"customer_id": customer_id, "base_package": base, "started_at": started_at.isoformat()}
    started = tenant.emp.post("/v1/subscriptions", json=body)
    assert started.status_code == 201, started.text
    result: dict = started.json()
    return result


def test_a_subscription_backdated_three_months_catches_up_exactly_once(
    make: Any, admin: httpx.Client
) -> None:
    tenant = make(utc(2027, 4, 15, 12))
    bob = customer(tenant, "postpaid")
    start(tenant, bob["id"], "BASE-POST", utc(2027, 1, 15, 9))
    ann = customer(tenant, "prepaid", card=CARD)
    top_up(tenant, ann["id"], 10_000)
    start(tenant, ann["id"], "BASE-PRE", utc(2027, 1, 15, 9))
    assert periods(tenant, bob["id"]) == [] and moves(tenant, ann["id"], "prepayment") == []

    advance(tenant, utc(2027, 4, 16, 12))  # the first night's jobs catch up

    caught_up = [
        ("2027-01-15T00:00:00Z", "2027-02-15T00:00:00Z", 1490),
        ("2027-02-15T00:00:00Z", "2027-03-15T00:00:00Z", 1490),
        ("2027-03-15T00:00:00Z", "2027-04-15T00:00:00Z", 1490),
    ]
    assert periods(tenant, bob["id"]) == caught_up
    assert moves(tenant, ann["id"], "prepayment") == [-990] * 4  # January to April, April's begun
    advance(tenant, utc(2027, 4, 20, 12))
    for job in ("recurring-prepayment", "invoice-production"):
        again = admin.post(
            f"/v1/jobs/{job}/runs", json={"as_of": "2027-04-20T12:00:00Z", "emp_id": tenant.id}
        ).json()
        assert again["processed"] == 0, again
    assert periods(tenant, bob["id"]) == caught_up
    assert moves(tenant, ann["id"], "prepayment") == [-990] * 4
    assert tenant.emp.get(f"/v1/customers/{ann['id']}/balance").json()["balance_minor"] == 10_000 - 4 * 990


def test_a_start_after_now_is_refused_and_a_second_subscription_names_the_first(make: Any) -> None:
    tenant = make(utc(2027, 4, 15, 12))
    bob = customer(tenant, "postpaid")
    later = tenant.emp.post(
        "/v1/subscriptions",
        json={"customer_id": bob["id"], "base_package": "BASE-POST", "started_at": "2027-04-16T00:00:00Z"},
    )
    assert later.status_code == 422 and problem_code(later) == "invalid-period"
    first = subscribe(tenant, bob["id"], "BASE-POST")
    second = tenant.emp.post(
        "/v1/subscriptions", json={"customer_id": bob["id"], "base_package": "BASE-POST"}
    )
    assert second.status_code == 409 and first["id"] in second.json()["detail"]
    listed = tenant.emp.get("/v1/subscriptions", params={"customer_id": bob["id"]}).json()["items"]
    assert [s["id"] for s in listed] == [first["id"]]


def test_an_ended_postpaid_subscription_gets_a_final_prorated_invoice_and_no_later_one(make: Any) -> None:
    tenant = make(utc(2027, 1, 1, 12))
    bob = customer(tenant, "postpaid")
    subscription = subscribe(tenant, bob["id"], "BASE-POST")
    advance(tenant, utc(2027, 2, 5, 12))
    assert session(
        tenant, bob["id"], 777, started_at="2027-02-04T10:00:00Z", ended_at="2027-02-04T11:00:00Z"
    ).is_success
    past = tenant.emp.post(f"/v1/subscriptions/{subscription['id']}/end", json={"at": "2027-02-01T00:00:00Z"})
    assert past.status_code == 422 and problem_code(past) == "invalid-period"

    ended = tenant.emp.post(
        f"/v1/subscriptions/{subscription['id']}/end", json={"at": "2027-02-20T00:00:00Z"}
    )

    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_at"] == "2027-02-20T00:00:00Z"
    advance(tenant, utc(2027, 2, 19, 12))
    assert len(invoices(tenant, bob["id"])) == 1  # January only: the last period has not ended
    advance(tenant, utc(2027, 2, 21, 12))
    january, final = invoices(tenant, bob["id"])
    assert (january["period_start"], january["period_end"]) == (
        "2027-01-01T00:00:00Z",
        "2027-02-01T00:00:00Z",
    )
    assert (final["period_start"], final["period_end"]) == ("2027-02-01T00:00:00Z", "2027-02-20T00:00:00Z")
    assert package_lines(final) == [("BASE-POST", prorate(1490, 19, 28))]
    sessions = [
        (line["amount_minor"], line["ended_at"]) for line in final["lines"] if line["kind"] == "session"
    ]
    assert sessions == [(777, "2027-02-04T11:00:00Z")]
    advance(tenant, utc(2027, 5, 1, 12))
    assert len(invoices(tenant, bob["id"])) == 2
    listed = tenant.emp.get("/v1/subscriptions", params={"customer_id": bob["id"]}).json()["items"]
    assert [s["ended_at"] for s in listed] == ["2027-02-20T00:00:00Z"]
    again = subscribe(tenant, bob["id"], "BASE-POST")  # a new one, once the old one has ended
    assert again["id"] != subscription["id"]


def test_a_postpaid_base_package_change_is_prorated_by_days(make: Any) -> None:
    tenant = make(utc(2027, 2, 1, 12))
    bob = customer(tenant, "postpaid")
    subscription = subscribe(tenant, bob["id"], "BASE-POST")

    changed = tenant.emp.post(
        f"/v1/subscriptions/{subscription['id']}/base-package",
        json={"package": "BASE-POST-PLUS", "at": "2027-02-11T00:00:00Z"},
    )

    assert changed.status_code == 200, changed.text
    advance(tenant, utc(2027, 4, 2, 12))
    february, march = invoices(tenant, bob["id"])
    assert package_lines(february) == [
        ("BASE-POST", prorate(1490, 10, 28)),
        ("BASE-POST-PLUS", prorate(2490, 18, 28)),
    ]
    assert package_lines(march) == [("BASE-POST-PLUS", 2490)]
    codes = [p["code"] for p in tenant.emp.get(f"/v1/subscriptions/{subscription['id']}").json()["packages"]]
    assert codes == ["BASE-POST", "BASE-POST-PLUS"]


def test_a_prepaid_base_package_change_credits_the_unused_days_and_debits_the_new_ones(make: Any) -> None:
    tenant = make(utc(2027, 2, 1, 12))
    ann = customer(tenant, "prepaid", card=CARD)
    top_up(tenant, ann["id"], 10_000)
    subscription = subscribe(tenant, ann["id"], "BASE-PRE")
    advance(tenant, utc(2027, 2, 2, 12))
    assert moves(tenant, ann["id"], "prepayment") == [-990]  # 1 February to 1 March

    changed = tenant.emp.post(
        f"/v1/subscriptions/{subscription['id']}/base-package",
        json={"package": "BASE-PRE-PLUS", "at": "2027-02-11T00:00:00Z"},
    )

    assert changed.status_code == 200, changed.text
    advance(tenant, utc(2027, 2, 10, 12))
    assert moves(tenant, ann["id"], "prepayment_credit") == []  # the change day has not begun
    advance(tenant, utc(2027, 3, 2, 12))
    assert moves(tenant, ann["id"], "prepayment_credit") == [990 - prorate(990, 10, 28)]
    assert moves(tenant, ann["id"], "prepayment") == [-990, -prorate(1990, 18, 28), -1990]
    used = 990 - (990 - prorate(990, 10, 28)) + prorate(1990, 18, 28) + 1990
    assert tenant.emp.get(f"/v1/customers/{ann['id']}/balance").json()["balance_minor"] == 10_000 - used
    explained = tenant.emp.get(f"/v1/customers/{ann['id']}/balance/explain").json()
    credit = next(line for line in explained["lines"] if line["type"] == "UnusedDaysCredited")
    assert credit["cause"]["period_start"] == "2027-02-11T00:00:00Z"
    assert credit["cause"]["period_end"] == "2027-03-01T00:00:00Z"

"""Business time over HTTP: the balance and its explanation as of a business instant, instants
answered in UTC whatever offset a request used, and instants with no UTC equivalent refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import CARD, customer, instant, problem_code, session, top_up

NOW = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


@pytest.fixture
def helsinki(served: ServedApp, admin: httpx.Client) -> Iterator[Tenant]:
    made = make_tenant(served, admin, time_zone="Europe/Helsinki", test_clock=NOW)
    yield made
    made.close()


def charged(tenant: Tenant, customer_id: str, cost: int, ended_at: datetime) -> None:
    recorded = session(
        tenant,
        customer_id,
        cost,
        started_at=(ended_at - timedelta(minutes=30)).isoformat(),
        ended_at=ended_at.isoformat(),
    )
    assert recorded.status_code == 201, recorded.text


def test_the_balance_on_a_business_day_counts_what_had_happened_by_then(helsinki: Tenant) -> None:
    ann = customer(helsinki, card=CARD)
    assert top_up(helsinki, ann["id"], 5000).status_code == 201  # paid at the clock's now, 12 November
    charged(helsinki, ann["id"], 700, datetime(2026, 11, 11, 8, 0, tzinfo=UTC))
    known_before_the_late_one = datetime.now(UTC)
    charged(helsinki, ann["id"], 300, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))  # sent in late

    def balance(**params: str) -> dict:
        answer = helsinki.emp.get(f"/v1/customers/{ann['id']}/balance", params=params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    tenth = "2026-11-10T23:59:59+02:00"  # the end of 10 November in Helsinki
    assert balance(as_of=tenth) == {"balance_minor": -300, "currency": "EUR", "as_of": "2026-11-10T21:59:59Z"}
    assert balance(as_of="2026-11-11T12:00:00Z")["balance_minor"] == -1000
    assert (
        balance(as_of="2026-11-11T12:00:00Z", at=known_before_the_late_one.isoformat())["balance_minor"]
        == -700
    )
    later = balance(as_of="2027-06-01T00:00:00Z")
    assert later == {
        "balance_minor": 4000,
        "currency": "EUR",
        "as_of": "2026-11-12T12:00:00Z",
    }  # the EMP's now

    explained = helsinki.emp.get(
        f"/v1/customers/{ann['id']}/balance/explain", params={"as_of": "2026-11-11T12:00:00+02:00"}
    ).json()
    assert explained["as_of"] == "2026-11-11T10:00:00Z"
    assert [
        (line["occurred_at"], line["delta_minor"], line["balance_after_minor"]) for line in explained["lines"]
    ] == [
        ("2026-11-09T08:00:00Z", -300, -300),
        ("2026-11-11T08:00:00Z", -700, -1000),
    ]
    assert explained["balance_minor"] == sum(line["delta_minor"] for line in explained["lines"])


def test_instants_are_answered_in_utc_whatever_offset_was_sent(helsinki: Tenant) -> None:
    ann = customer(helsinki, card=CARD)
    recorded = session(
        helsinki,
        ann["id"],
        250,
        started_at="2026-11-11T10:00:00+02:00",
        ended_at="2026-11-11T10:45:00+02:00",
    )
    assert recorded.status_code == 201, recorded.text
    moved = helsinki.emp.get(f"/v1/customers/{ann['id']}/transactions").json()["items"][0]
    assert moved["occurred_at"] == "2026-11-11T08:45:00Z" and moved["recorded_at"].endswith("Z")
    at = helsinki.emp.get(f"/v1/customers/{ann['id']}/balance", params={"at": "2030-06-01T12:45:00+02:00"})
    assert at.json()["as_of"] == "2030-06-01T10:45:00Z"
    history = helsinki.emp.get(f"/v1/customers/{ann['id']}/events").json()["items"]
    charge = next(event for event in history if event["type"] == "SessionCharged")
    assert charge["data"]["ended_at"] == "2026-11-11T08:45:00Z"
    assert instant(charge["recorded_at"]).tzinfo is not None and charge["recorded_at"].endswith("Z")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
@pytest.mark.parametrize("name", ["at", "as_of"])
def test_an_instant_with_no_utc_equivalent_is_refused(tenant: Tenant, name: str, value: str) -> None:
    ann = customer(tenant)
    for path in ("balance", "balance/explain"):
        answer = tenant.emp.get(f"/v1/customers/{ann['id']}/{path}", params={name: value})
        assert answer.status_code == 422, answer.text
        assert problem_code(answer) == "invalid-period"
        assert answer.json()["errors"] == [{"field": name, "message": answer.json()["detail"]}]


def test_the_support_page_shows_a_refused_instant_as_a_page(served: ServedApp, tenant: Tenant) -> None:
    ann = customer(tenant)
    with httpx.Client(base_url=served.base_url) as browser:
        signed_in = browser.post("/support/login", data={"key": tenant.keys["support"]})
        assert signed_in.status_code == 303
        for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
            page = browser.get(f"/support/customers/{ann['id']}", params={"at": value})
            assert page.status_code == 422
            assert page.headers["content-type"].startswith("text/html")
            assert "outside the years 1 to 9999" in page.text
        unknown = browser.get("/support/customers/00000000-0000-0000-0000-000000000000")
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")

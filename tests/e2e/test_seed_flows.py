"""Seed 000's flows: registration, manual and automatic top-up, postpaid sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import (
    CARD,
    DECLINING_CARD,
    balance,
    customer,
    define_catalog,
    problem_code,
    session,
    top_up,
    transactions,
    wait_for_balance,
    wait_until_payments_settled,
)
from tests.reliability.crash_serve import wait_until


def card_payments(served: ServedApp, customer_id: str) -> list[tuple[str, str, int]]:
    with psycopg.connect(served.system.database_url) as conn:
        rows = conn.execute(
            "SELECT purpose, status, amount_minor FROM card_payments WHERE customer_id = %s"
            " ORDER BY requested_at",
            (customer_id,),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def gateway_charges(served: ServedApp, customer_id: str) -> int:
    with psycopg.connect(served.system.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM gateway_charges g JOIN card_payments p"
            " ON g.idempotency_key = 'payment:' || p.payment_id WHERE p.customer_id = %s",
            (customer_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def customer_count(tenant: Tenant) -> int:
    return len(tenant.emp.get("/v1/customers", params={"limit": 500}).json()["items"])


# --- registration --------------------------------------------------------------------------


def test_registration_with_consent_records_everything_at_once(tenant: Tenant) -> None:
    define_catalog(tenant)
    response = tenant.emp.post(
        "/v1/registrations",
        json={
            "name": "Ann",
            "email": "ann@example.com",
            "account_type": "prepaid",
            "card": CARD,
            "auto_top_up": True,
            "base_package": "BASE-PRE",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["customer"]["payment_card"]["last4"] == "4242"
    assert body["customer"]["auto_top_up"] == {"enabled": True, "threshold_minor": 1000, "amount_minor": 3000}
    assert body["subscription"]["customer_id"] == body["customer"]["id"]
    assert [p["code"] for p in body["subscription"]["packages"]] == ["BASE-PRE"]


def test_registration_without_consent_means_manual_top_ups(tenant: Tenant) -> None:
    response = tenant.emp.post(
        "/v1/registrations",
        json={"name": "Ann", "email": "ann@example.com", "account_type": "prepaid", "card": CARD},
    )
    assert response.status_code == 201
    customer_id = response.json()["customer"]["id"]
    assert response.json()["customer"]["auto_top_up"]["enabled"] is False
    assert response.json()["subscription"] is None

    session(tenant, customer_id, 500)
    wait_until_payments_settled(tenant, customer_id)
    assert balance(tenant, customer_id) == -500  # nothing tops it up by itself


def test_a_declined_card_at_registration_records_nothing(tenant: Tenant) -> None:
    before = customer_count(tenant)
    response = tenant.emp.post(
        "/v1/registrations",
        json={
            "name": "Ann",
            "email": "ann@example.com",
            "account_type": "prepaid",
            "card": {**CARD, "token": "tok_chargeDeclined"},
            "auto_top_up": True,
        },
    )
    assert response.status_code == 402
    assert problem_code(response) == "payment-declined"
    assert customer_count(tenant) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"account_type": "prepaid", "auto_top_up": True}, "card-required"),
        ({"account_type": "postpaid", "card": CARD, "auto_top_up": True}, "top-up-not-applicable"),
        ({"account_type": "prepaid", "base_package": "NO-SUCH"}, "not-found"),
    ],
)
def test_a_refused_registration_records_nothing(tenant: Tenant, body: dict, code: str) -> None:
    before = customer_count(tenant)
    response = tenant.emp.post("/v1/registrations", json={"name": "Ann", "email": "a@example.com", **body})
    assert problem_code(response) == code
    assert customer_count(tenant) == before


# --- manual top-up (option 2: the customer portal) -----------------------------------------


def test_manual_top_up_is_charged_to_the_card_and_credited(tenant: Tenant) -> None:
    ann = customer(tenant, card=CARD)

    response = top_up(tenant, ann["id"], 2500)

    assert response.status_code == 201
    assert response.json()["amount_minor"] == 2500
    assert response.json()["balance_minor"] == 2500
    assert balance(tenant, ann["id"]) == 2500
    [credit] = transactions(tenant, ann["id"])
    assert (credit["type"], credit["amount_minor"], credit["balance_after_minor"]) == ("top_up", 2500, 2500)


def test_a_declined_manual_top_up_leaves_the_balance(tenant: Tenant) -> None:
    ann = customer(tenant, card=DECLINING_CARD)
    response = top_up(tenant, ann["id"], 2500)
    assert response.status_code == 402
    assert problem_code(response) == "payment-declined"
    assert balance(tenant, ann["id"]) == 0


def test_a_manual_top_up_needs_a_card(tenant: Tenant) -> None:
    ann = customer(tenant)
    assert problem_code(top_up(tenant, ann["id"], 2500)) == "card-required"


def test_a_retried_top_up_with_its_idempotency_key_charges_once(tenant: Tenant, served: ServedApp) -> None:
    ann = customer(tenant, card=CARD)
    headers = {"Idempotency-Key": "portal-top-up-1"}
    first = tenant.emp.post(
        f"/v1/customers/{ann['id']}/top-ups", json={"amount_minor": 1000}, headers=headers
    )
    again = tenant.emp.post(
        f"/v1/customers/{ann['id']}/top-ups", json={"amount_minor": 1000}, headers=headers
    )
    assert first.json() == again.json()
    assert balance(tenant, ann["id"]) == 1000
    wait_until_payments_settled(tenant, ann["id"])  # the card payments are read asynchronously
    assert gateway_charges(served, ann["id"]) == 1


# --- automatic top-up (option 1) ------------------------------------------------------------


def consenting_customer(tenant: Tenant, card: dict = CARD, **consent: int) -> dict:
    ann = customer(tenant, card=card)
    response = tenant.emp.put(f"/v1/customers/{ann['id']}/auto-top-up", json={"enabled": True, **consent})
    assert response.status_code == 200, response.text
    return ann


def test_automatic_top_up_when_a_session_leaves_the_balance_below_the_threshold(
    tenant: Tenant, served: ServedApp
) -> None:
    ann = consenting_customer(tenant)
    top_up(tenant, ann["id"], 1500)

    charged = session(tenant, ann["id"], 600)

    assert charged.json()["balance_minor"] == 900
    wait_for_balance(tenant, ann["id"], 3900)
    wait_until_payments_settled(tenant, ann["id"])  # the card payments are read asynchronously
    assert [(t["type"], t["amount_minor"]) for t in transactions(tenant, ann["id"])] == [
        ("top_up", 1500),
        ("session", -600),
        ("top_up", 3000),
    ]
    assert card_payments(served, ann["id"])[-1] == ("automatic_top_up", "approved", 3000)


def test_a_balance_above_the_threshold_triggers_nothing(tenant: Tenant, served: ServedApp) -> None:
    ann = consenting_customer(tenant)
    top_up(tenant, ann["id"], 5000)
    session(tenant, ann["id"], 600)
    wait_until_payments_settled(tenant, ann["id"])
    assert balance(tenant, ann["id"]) == 4400
    assert [p[0] for p in card_payments(served, ann["id"])] == ["manual_top_up"]


def test_a_top_up_never_triggers_another(tenant: Tenant, served: ServedApp) -> None:
    ann = consenting_customer(tenant, threshold_minor=5000, amount_minor=1000)

    session(tenant, ann["id"], 100)  # -100: below 50.00, one top-up of 10.00 leaves 900, still below

    wait_for_balance(tenant, ann["id"], 900)
    wait_until_payments_settled(tenant, ann["id"])
    assert balance(tenant, ann["id"]) == 900
    assert [p[0] for p in card_payments(served, ann["id"])] == ["automatic_top_up"]


def test_no_second_top_up_while_one_is_in_flight(tenant: Tenant, served: ServedApp) -> None:
    ann = consenting_customer(tenant)
    for _ in range(5):
        session(tenant, ann["id"], 200)
    wait_for_balance(tenant, ann["id"], -1000 + 3000)
    wait_until_payments_settled(tenant, ann["id"])
    automatic = [p for p in card_payments(served, ann["id"]) if p[0] == "automatic_top_up"]
    assert automatic == [("automatic_top_up", "approved", 3000)]


def test_a_declined_automatic_top_up_is_not_retried_within_a_day(tenant: Tenant, served: ServedApp) -> None:
    ann = consenting_customer(tenant, card=DECLINING_CARD)

    session(tenant, ann["id"], 300)
    wait_until(
        lambda: card_payments(served, ann["id"]) == [("automatic_top_up", "declined", 3000)],
        "the automatic top-up declined",
        timeout=10.0,
        every=0.02,
    )
    session(tenant, ann["id"], 300)
    wait_until_payments_settled(tenant, ann["id"])

    assert balance(tenant, ann["id"]) == -600
    assert card_payments(served, ann["id"]) == [("automatic_top_up", "declined", 3000)]
    assert gateway_charges(served, ann["id"]) == 1


# --- postpaid ---------------------------------------------------------------------------------


def test_postpaid_sessions_are_all_accepted_with_a_negative_running_balance(tenant: Tenant) -> None:
    bob = customer(tenant, "postpaid")
    costs = [1250, 830, 4410]
    for cost in costs:
        response = session(tenant, bob["id"], cost)
        assert response.status_code == 201
    assert balance(tenant, bob["id"]) == -sum(costs)
    assert [t["balance_after_minor"] for t in transactions(tenant, bob["id"])] == [-1250, -2080, -6490]
    authorized = tenant.emp.post(f"/v1/customers/{bob['id']}/authorize")
    assert authorized.json() == {"allowed": "ALLOWED"}


def test_prepaid_authorization_needs_credit(tenant: Tenant) -> None:
    ann = customer(tenant, card=CARD)
    url = f"/v1/customers/{ann['id']}/authorize"
    assert tenant.emp.post(url).json() == {"allowed": "NO_CREDIT"}
    top_up(tenant, ann["id"], 100)
    assert tenant.emp.post(url).json() == {"allowed": "ALLOWED"}
    session(tenant, ann["id"], 100)
    assert tenant.emp.post(url).json() == {"allowed": "NO_CREDIT"}


# --- sessions ---------------------------------------------------------------------------------


def test_a_session_is_charged_once_per_session_id(tenant: Tenant, other_tenant: Tenant) -> None:
    ann = customer(tenant)
    first = session(tenant, ann["id"], 700, session_id="CDR-1")
    assert first.status_code == 201
    payload = first.request.content
    again = tenant.emp.post("/v1/sessions", content=payload, headers={"content-type": "application/json"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert balance(tenant, ann["id"]) == -700

    other = session(tenant, ann["id"], 701, session_id="CDR-1")
    assert other.status_code == 409
    assert problem_code(other) == "duplicate"

    bob = customer(other_tenant)
    assert session(other_tenant, bob["id"], 700, session_id="CDR-1").status_code == 201


def test_a_session_with_any_utc_offset_is_recorded_and_read_back(tenant: Tenant) -> None:
    """A charge point's clock may send offsets beyond PostgreSQL's own range (+15:59): the
    instant is what counts, and the read models must take it (they once stalled on it)."""
    ann = customer(tenant, "postpaid")
    response = session(
        tenant, ann["id"], 450, started_at="0050-11-24T20:58:43+20:59", ended_at="0050-11-24T21:30:00+20:59"
    )
    assert response.status_code == 201, response.text
    assert balance(tenant, ann["id"]) == -450
    assert transactions(tenant, ann["id"])[0]["occurred_at"].startswith("0050-11-24T00:31:00")
    assert session(tenant, ann["id"], 50).status_code == 201  # and everything after it too
    assert balance(tenant, ann["id"]) == -500


# Parameters are made when the tests are collected, which may be long before this one runs (the
# whole suite runs first on one server, then on the other): its "future" is worked out as it runs.
IN_AN_HOUR = object()


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"ended_at": "2026-01-01T10:00:00Z", "started_at": "2026-01-01T11:00:00Z"}, 422, "invalid-period"),
        ({"ended_at": IN_AN_HOUR}, 422, "invalid-period"),
        ({"started_at": "2026-01-01T10:00:00"}, 400, "validation-error"),
        ({"cost_minor": -5}, 400, "validation-error"),
        ({"cost_minor": 12.5}, 400, "validation-error"),
        ({"energy_wh": "100"}, 400, "validation-error"),
    ],
)
def test_bad_sessions_are_refused_and_nothing_is_charged(
    tenant: Tenant, overrides: dict, status: int, code: str
) -> None:
    ann = customer(tenant)
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    overrides = {name: in_an_hour if value is IN_AN_HOUR else value for name, value in overrides.items()}
    response = session(tenant, ann["id"], 100, **overrides)
    assert response.status_code == status, response.text
    assert problem_code(response) == code
    assert balance(tenant, ann["id"]) == 0


def test_a_session_of_an_unknown_customer_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    bob = customer(other_tenant)
    assert session(tenant, bob["id"], 100).status_code == 404
    assert balance(other_tenant, bob["id"]) == 0

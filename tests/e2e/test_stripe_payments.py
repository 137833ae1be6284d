"""Card payments through Stripe, over real HTTP: the ledger served with
CHARGELEDGER_PAYMENT_GATEWAY=stripe against the fake Stripe (tests/fake_stripe.py, driven by the
official SDK), which sends its signed webhooks to the ledger late, twice and out of order."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import (
    advance,
    balance,
    define_catalog,
    problem_code,
    session,
    subscribe,
    transactions,
    wait_for_balance,
    wait_until_mail_sent,
    wait_until_payments_settled,
)
from tests.fake_stripe import SECRET_KEY, FakeStripe
from tests.smtp import SmtpServer


@pytest.fixture
def shop(stripe_served: ServedApp) -> Iterator[Tenant]:
    """An EMP of the ledger that takes its card payments through (the fake) Stripe."""
    with stripe_served.client(stripe_served.admin_token) as admin:
        made = make_tenant(stripe_served, admin)
    yield made
    made.close()


def register(shop: Tenant, token: str | None = None, *, auto_top_up: bool = False) -> dict[str, Any]:
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    body: dict[str, Any] = {"name": "Ann Driver", "email": email, "account_type": "prepaid"}
    if token is not None:
        body |= {"card": {"token": token}, "auto_top_up": auto_top_up}
    response = shop.emp.post("/v1/registrations", json=body)
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()["customer"]
    return customer


def card_of(shop: Tenant, customer_id: str) -> dict[str, Any] | None:
    card: dict[str, Any] | None = shop.emp.get(f"/v1/customers/{customer_id}").json()["payment_card"]
    return card


def intents_of(fake: FakeStripe, customer_id: str) -> list[dict[str, Any]]:
    return [i for i in fake.payment_intents() if i["metadata"].get("chargeledger_customer_id") == customer_id]


def delivered(fake: FakeStripe, event: dict[str, Any]) -> str:
    response = fake.send(event)
    assert response.status_code == 200, response.text
    outcome: str = response.json()["outcome"]
    return outcome


def eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)
    return value


def test_a_card_set_up_by_the_front_end_is_stored_when_stripe_reports_it(
    shop: Tenant, fake_stripe: FakeStripe
) -> None:
    ann = register(shop)
    setup = shop.emp.post(f"/v1/customers/{ann['id']}/card-setup")
    assert setup.status_code == 201, setup.text
    assert setup.json()["client_secret"].startswith(setup.json()["setup_intent_id"])
    assert card_of(shop, ann["id"]) is None

    event = fake_stripe.confirm_setup(setup.json()["setup_intent_id"], "pm_card_mastercard")

    assert delivered(fake_stripe, event) == "recorded"
    assert card_of(shop, ann["id"]) == {
        "brand": "mastercard",
        "last4": "4444",
        "exp_month": 12,
        "exp_year": 2034,
    }
    assert delivered(fake_stripe, event) == "repeat"


def test_a_payment_method_attached_directly_gets_its_details_from_stripe(
    shop: Tenant, fake_stripe: FakeStripe
) -> None:
    ann = register(shop)

    stored = shop.emp.put(f"/v1/customers/{ann['id']}/payment-card", json={"token": "pm_card_visa"})

    assert stored.status_code == 200, stored.text
    assert stored.json()["payment_card"] == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2034,
    }
    declined = shop.emp.put(
        f"/v1/customers/{ann['id']}/payment-card", json={"token": "pm_card_chargeDeclined"}
    )
    assert declined.status_code == 402
    assert card_of(shop, ann["id"]) == stored.json()["payment_card"]


def test_a_late_setup_does_not_replace_a_newer_card(shop: Tenant, fake_stripe: FakeStripe) -> None:
    ann = register(shop)
    older = shop.emp.post(f"/v1/customers/{ann['id']}/card-setup").json()["setup_intent_id"]
    shop.emp.put(f"/v1/customers/{ann['id']}/payment-card", json={"token": "pm_card_mastercard"})

    late = fake_stripe.confirm_setup(older, "pm_card_visa")

    assert delivered(fake_stripe, late) != "recorded"
    assert card_of(shop, ann["id"])["last4"] == "4444"  # type: ignore[index]


def test_an_expired_card_is_refused_naming_its_expiry(shop: Tenant, fake_stripe: FakeStripe) -> None:
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake_stripe.url})
    expired = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 3, "exp_year": 2020}}
    )
    ann = register(shop)

    refused = shop.emp.put(f"/v1/customers/{ann['id']}/payment-card", json={"token": expired.id})

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "exp_year"
    assert card_of(shop, ann["id"]) is None


def test_a_bad_or_old_signature_is_refused_and_records_nothing(shop: Tenant, fake_stripe: FakeStripe) -> None:
    ann = register(shop)
    setup = shop.emp.post(f"/v1/customers/{ann['id']}/card-setup").json()
    event = fake_stripe.confirm_setup(setup["setup_intent_id"])

    forged = fake_stripe.send(event, secret="whsec_not_the_endpoints")
    stale = fake_stripe.send(event, timestamp=int(time.time()) - 301)
    unsigned = httpx.post(fake_stripe.webhook_url or "", json=event)

    for refused in (forged, stale, unsigned):
        assert refused.status_code == 400, refused.text
        assert problem_code(refused) == "validation-error"
        assert refused.json()["errors"][0]["field"] == "Stripe-Signature"
    assert card_of(shop, ann["id"]) is None
    assert delivered(fake_stripe, event) == "recorded"


def test_automatic_top_ups_are_paid_by_one_payment_intent_each(shop: Tenant, fake_stripe: FakeStripe) -> None:
    ann = register(shop, "pm_card_visa", auto_top_up=True)

    session(shop, ann["id"], 400)

    wait_for_balance(shop, ann["id"], 2600, timeout=10)
    [intent] = intents_of(fake_stripe, ann["id"])
    assert (intent["amount"], intent["currency"], intent["status"]) == (3000, "eur", "succeeded")
    assert intent["customer"] in fake_stripe.customers
    assert (
        intent["payment_method"]
        == shop.served.system.ledger.get_customer(uuid.UUID(ann["id"]), uuid.UUID(shop.id)).card.token
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("pm_card_chargeCustomerFail", "your card was declined"),
        ("pm_card_authenticationRequired", "confirm the payment there"),
    ],
)
def test_a_declined_top_up_is_mailed(
    shop: Tenant, fake_stripe: FakeStripe, smtp: SmtpServer, token: str, says: str
) -> None:
    ann = register(shop, token, auto_top_up=True)

    session(shop, ann["id"], 400)

    [mail] = smtp.inbox.wait_for(ann["email"], timeout=10)
    assert says in mail.get_content()
    wait_until_mail_sent(shop, ann["id"])
    assert balance(shop, ann["id"]) == -400
    [intent] = intents_of(fake_stripe, ann["id"])
    assert intent["status"] in ("requires_payment_method", "requires_action")


def test_a_processing_charge_is_completed_once_by_its_webhook_whatever_comes_after(
    shop: Tenant, fake_stripe: FakeStripe
) -> None:
    ann = register(shop, "pm_card_visa", auto_top_up=True)
    fake_stripe.processing = True
    try:
        session(shop, ann["id"], 400)
        [intent] = eventually(lambda: intents_of(fake_stripe, ann["id"]))
    finally:
        fake_stripe.processing = False
    assert intent["status"] == "processing"

    succeeded = fake_stripe.finish_processing(intent["id"], succeeded=True)
    failed_late = fake_stripe.event(
        "payment_intent.payment_failed", {**intent, "status": "requires_payment_method"}
    )

    assert delivered(fake_stripe, succeeded) == "recorded"
    assert delivered(fake_stripe, succeeded) == "repeat"
    assert delivered(fake_stripe, failed_late).startswith("late")
    wait_for_balance(shop, ann["id"], 2600, timeout=10)
    assert len(intents_of(fake_stripe, ann["id"])) == 1


def test_the_webhook_endpoint_is_not_there_without_stripe(served: ServedApp) -> None:
    answered = httpx.post(f"{served.base_url}/v1/psp/stripe/webhooks", json={})

    assert answered.status_code == 404


@pytest.mark.parametrize(
    ("expiry", "field"),
    [({"exp_month": 11, "exp_year": 2026}, "exp_month"), ({"exp_month": 12, "exp_year": 2025}, "exp_year")],
)
def test_the_simulated_gateway_refuses_an_expired_card_too(
    served: ServedApp, admin: httpx.Client, expiry: dict[str, int], field: str
) -> None:
    on_clock = make_tenant(served, admin, test_clock=datetime(2026, 12, 1, 12, tzinfo=UTC))
    ann = on_clock.emp.post(
        "/v1/customers", json={"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}
    ).json()
    card = {"token": "tok_visa", "brand": "visa", "last4": "4242"}

    refused = on_clock.emp.put(f"/v1/customers/{ann['id']}/payment-card", json={**card, **expiry})
    this_month = on_clock.emp.put(
        f"/v1/customers/{ann['id']}/payment-card", json={**card, "exp_month": 12, "exp_year": 2026}
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert this_month.status_code == 200, this_month.text
    on_clock.close()


def card_method(fake: FakeStripe, customer_id: str) -> str:
    """The id of the PaymentMethod attached to this ledger customer's Stripe Customer."""
    with fake.lock:
        [customer] = [
            c["id"]
            for c in fake.customers.values()
            if c["metadata"].get("chargeledger_customer_id") == customer_id
        ]
        [method] = [m["id"] for m in fake.payment_methods.values() if m["customer"] == customer]
    return method


def test_a_prepaid_year_through_stripe_with_dunning_a_block_and_a_top_up_that_lifts_it(
    stripe_served: ServedApp, fake_stripe: FakeStripe, smtp: SmtpServer
) -> None:
    """A prepaid year on a test clock against the fake Stripe: a card set up by the front end, a
    monthly subscription (9.90) and a 25.00 session a month, automatic top-ups of 30.00 paid by
    one PaymentIntent each. In June the cardholder's account runs dry: the top-ups are declined,
    July's subscription payment too, and it walks the dunning ladder (retried on days 1, 3 and 7)
    to a block on day 14. Once the account is filled again, a manual top-up settles what is
    overdue and lifts the block at once; the rest of the year is paid as before."""
    with stripe_served.client(stripe_served.admin_token) as admin:
        shop = make_tenant(stripe_served, admin, test_clock=datetime(2026, 1, 1, tzinfo=UTC))
    define_catalog(shop)
    ann = register(shop)
    setup = shop.emp.post(f"/v1/customers/{ann['id']}/card-setup").json()
    assert delivered(fake_stripe, fake_stripe.confirm_setup(setup["setup_intent_id"])) == "recorded"
    method = card_method(fake_stripe, ann["id"])
    assert shop.emp.put(f"/v1/customers/{ann['id']}/auto-top-up", json={"enabled": True}).status_code == 200
    subscribe(shop, ann["id"], "BASE-PRE")

    def customer() -> dict[str, Any]:
        found: dict[str, Any] = shop.emp.get(f"/v1/customers/{ann['id']}").json()
        return found

    def allowed() -> str:
        answer: str = shop.emp.post(f"/v1/customers/{ann['id']}/authorize").json()["allowed"]
        return answer

    for month in range(1, 13):
        mid_month = datetime(2026, month, 15, 12, tzinfo=UTC)
        advance(shop, mid_month)
        if month == 6:
            fake_stripe.set_funds(method, available=False)
        if month == 7:
            assert customer()["dunning"] == {
                "since": "2026-07-01T00:00:00Z",
                "step": 5,
                "overdue_minor": 990,
                "blocked": True,
            }
            assert allowed() == "BLOCKED"
        charged = session(
            shop,
            ann["id"],
            2500,
            started_at=(mid_month - timedelta(hours=2)).isoformat(),
            ended_at=(mid_month - timedelta(hours=1)).isoformat(),
        )
        assert charged.status_code == 201, charged.text
        wait_until_payments_settled(shop, ann["id"])
        if month == 7:
            advance(shop, datetime(2026, 7, 16, 12, tzinfo=UTC))
            assert (customer()["dunning"]["blocked"], allowed()) == (True, "BLOCKED")
            fake_stripe.set_funds(method, available=True)
            topped = shop.emp.post(f"/v1/customers/{ann['id']}/top-ups", json={"amount_minor": 5000})
            assert topped.status_code == 201, topped.text
            assert (customer()["dunning"], allowed()) == (None, "ALLOWED")
    advance(shop, datetime(2026, 12, 31, 12, tzinfo=UTC))

    intents = intents_of(fake_stripe, ann["id"])
    top_ups = [t["amount_minor"] for t in transactions(shop, ann["id"]) if t["type"] == "top_up"]
    assert [i["amount"] for i in intents if i["status"] == "succeeded"] == top_ups
    assert top_ups == [3000] * 7 + [5000] + [3000] * 6
    # Declined: June's top-up, July 1st's top-up and subscription payment, its three retries,
    # and July 15th's top-up.
    assert [i["amount"] for i in intents if i["status"] != "succeeded"] == [3000, 3000] + [990] * 4 + [3000]
    balance_now = customer()["balance_minor"]
    assert balance_now == sum(t["amount_minor"] for t in transactions(shop, ann["id"]))
    assert balance_now == sum(top_ups) - 12 * 990 - 12 * 2500
    assert customer()["dunning"] is None
    wait_until_mail_sent(shop, ann["id"])
    subjects = sorted(m["Subject"] for m in smtp.inbox.to(ann["email"]))
    assert subjects == sorted(
        ["Payment failed: 30.00 EUR (automatic top-up)"] * 3
        + ["Payment failed: 9.90 EUR (subscription payment)", "Blocked: 9.90 EUR overdue"]
        + [f"Payment reminder {n}: 9.90 EUR overdue" for n in (1, 2, 3, 4)]
    )
    shop.close()


def test_a_subscription_payment_still_processing_is_never_charged_a_second_time(
    stripe_served: ServedApp, fake_stripe: FakeStripe
) -> None:
    """While the charge of a debit is processing at Stripe, the dunning ladder's retries on days
    1, 3 and 7 complete that charge rather than make another; its webhook settles the debit."""
    with stripe_served.client(stripe_served.admin_token) as admin:
        shop = make_tenant(stripe_served, admin, test_clock=datetime(2026, 3, 1, 10, tzinfo=UTC))
    define_catalog(shop)
    ann = register(shop, "pm_card_visa")
    fake_stripe.processing = True
    try:
        subscribe(shop, ann["id"], "BASE-PRE")
        advance(shop, datetime(2026, 3, 9, 10, tzinfo=UTC))
    finally:
        fake_stripe.processing = False
    [intent] = intents_of(fake_stripe, ann["id"])
    assert (intent["amount"], intent["status"]) == (990, "processing")

    assert delivered(fake_stripe, fake_stripe.finish_processing(intent["id"], succeeded=True)) == "recorded"

    customer = shop.emp.get(f"/v1/customers/{ann['id']}").json()
    assert customer["dunning"] is None
    assert len(intents_of(fake_stripe, ann["id"])) == 1
    shop.close()

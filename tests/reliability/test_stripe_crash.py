"""`chargeledger serve` with CHARGELEDGER_PAYMENT_GATEWAY=stripe, killed with SIGKILL between
creating the PaymentIntent at (the fake) Stripe and recording its outcome: after the restart
there is exactly one PaymentIntent and one credit, because the retried charge carries the same
Idempotency-Key and Stripe answers it with the first PaymentIntent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.reliability.crash_serve import (
    ServeProcess,
    create_tenant,
    rows,
    serve_process,
    session_body,
    wait_until,
)
from tests.reliability.test_crashes import balance, prepaid_with_auto_top_up


@pytest.fixture
def served(fresh_database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    with serve_process(fresh_database_url, tmp_path) as process:
        yield process


def stripe_env(fake: FakeStripe) -> dict[str, str]:
    return {
        "CHARGELEDGER_PAYMENT_GATEWAY": "stripe",
        "CHARGELEDGER_STRIPE_SECRET_KEY": SECRET_KEY,
        "CHARGELEDGER_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CHARGELEDGER_STRIPE_API_BASE": fake.url,
    }


def test_a_kill_between_the_payment_intent_and_its_outcome_leaves_one_intent_and_one_credit(
    served: ServeProcess, fake_stripe: FakeStripe
) -> None:
    # Stripe takes a minute to answer the PaymentIntent it made: the kill lands in between.
    fake_stripe.delay_seconds = 60
    try:
        served.start(**stripe_env(fake_stripe))
        tenant = create_tenant(served)
        card = {"token": "pm_card_visa"}
        ann = prepaid_with_auto_top_up(served, tenant, card, "ann@example.com")
        with served.client(tenant.key) as client:
            charged = client.post("/v1/sessions", json=session_body(ann, 600))
            assert charged.status_code == 201, charged.text

        def intents() -> list[dict]:
            return [
                i for i in fake_stripe.payment_intents() if i["metadata"]["chargeledger_customer_id"] == ann
            ]

        wait_until(intents, "the PaymentIntent at Stripe")
        assert rows(served.database_url, "SELECT status FROM card_payments") == [("pending",)]
        served.kill()
    finally:
        fake_stripe.delay_seconds = 0

    served.start(**stripe_env(fake_stripe))
    wait_until(lambda: balance(served, tenant, ann) == 2400, "the top-up's credit after the restart")

    [intent] = intents()
    assert (intent["amount"], intent["status"]) == (3000, "succeeded")
    assert rows(served.database_url, "SELECT status, charge_id FROM card_payments") == [
        ("approved", intent["id"])
    ]
    credits = rows(
        served.database_url,
        "SELECT amount_minor FROM transactions WHERE type = 'top_up' AND customer_id = %s",
        ann,
    )
    assert credits == [(3000,)]

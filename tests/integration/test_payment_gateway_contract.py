"""The PaymentGateway port's contract, held by the Stripe adapter (driven against the fake
Stripe by the official SDK) and the simulated gateway alike: the same test cards attach or are
declined, charge or are declined with the same decline codes, and a repeated idempotency key
is the first charge, never a second."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chargeledger.system import System
from commands.ports import ChargeResult, PayingCustomer, PaymentGateway
from commands.simulated_gateway import SimulatedGateway
from commands.stripe_gateway import StripeGateway
from tests.conftest import stripe_settings
from tests.fake_stripe import FakeStripe


@dataclass(frozen=True)
class Cards:
    visa: str
    declined: str  # 4000000000000002
    insufficient_funds: str  # 4000000000009995
    charges_fail: str  # 4000000000000341
    authentication_required: str  # 4000002760003184


SIMULATED = Cards(
    "tok_visa",
    "tok_chargeDeclined",
    "tok_chargeDeclinedInsufficientFunds",
    "tok_chargeCustomerFail",
    "tok_authenticationRequired",
)
STRIPE = Cards(
    "pm_card_visa",
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeCustomerFail",
    "pm_card_authenticationRequired",
)


@dataclass
class Gateway:
    port: PaymentGateway
    cards: Cards
    fake: FakeStripe | None = None


@pytest.fixture(params=["simulated", "stripe"])
def gateway(request: pytest.FixtureRequest, system: System) -> Iterator[Gateway]:
    if request.param == "simulated":
        yield Gateway(SimulatedGateway(system.pool), SIMULATED)
        return
    fake: FakeStripe = request.getfixturevalue("fake_stripe")
    yield Gateway(stripe_port(system, fake), STRIPE, fake)


def stripe_port(system: System, fake: FakeStripe) -> StripeGateway:
    settings = stripe_settings(fake)
    return StripeGateway(
        system.pool,
        secret_key=settings.secret_key,
        webhook_secret=settings.webhook_secret,
        api_base=settings.api_base,
    )


def someone() -> PayingCustomer:
    return PayingCustomer(uuid.uuid4(), uuid.uuid4(), "Ann Driver", "ann@example.com")


def attached(gateway: Gateway, token: str, customer: PayingCustomer) -> str:
    verification = gateway.port.verify_card(token, customer=customer)
    assert verification.approved, verification
    return verification.token or token


def charge(
    gateway: Gateway, token: str, customer: PayingCustomer, key: str, amount: int = 3000
) -> ChargeResult:
    return gateway.port.charge(
        token=token,
        amount_minor=amount,
        currency="EUR",
        idempotency_key=key,
        customer=customer,
        payment_id=uuid.uuid4(),
    )


def test_a_good_card_attaches_and_pays(gateway: Gateway) -> None:
    ann = someone()
    token = attached(gateway, gateway.cards.visa, ann)

    result = charge(gateway, token, ann, f"payment:{uuid.uuid4()}")

    assert result.approved and not result.processing
    assert result.charge_id


@pytest.mark.parametrize(
    ("card", "decline"), [("declined", "card_declined"), ("insufficient_funds", "insufficient_funds")]
)
def test_a_declined_card_does_not_attach(gateway: Gateway, card: str, decline: str) -> None:
    verification = gateway.port.verify_card(getattr(gateway.cards, card), customer=someone())

    assert not verification.approved
    assert verification.decline_code == decline


@pytest.mark.parametrize(
    ("card", "decline"),
    [("charges_fail", "card_declined"), ("authentication_required", "authentication_required")],
)
def test_a_card_that_attaches_can_still_be_declined_when_charged(
    gateway: Gateway, card: str, decline: str
) -> None:
    ann = someone()
    token = attached(gateway, getattr(gateway.cards, card), ann)

    result = charge(gateway, token, ann, f"payment:{uuid.uuid4()}")

    assert not result.approved and not result.processing
    assert result.decline_code == decline


def test_a_repeated_idempotency_key_is_the_first_charge(gateway: Gateway) -> None:
    ann = someone()
    token = attached(gateway, gateway.cards.visa, ann)
    key = f"payment:{uuid.uuid4()}"

    first = charge(gateway, token, ann, key)
    again = charge(gateway, token, ann, key)

    assert again == first
    if gateway.fake is not None:
        mine = [i for i in gateway.fake.payment_intents() if i["id"] == first.charge_id]
        assert len(mine) == 1


def test_a_repeated_declined_charge_is_the_first_decline(gateway: Gateway) -> None:
    ann = someone()
    token = attached(gateway, gateway.cards.charges_fail, ann)
    key = f"payment:{uuid.uuid4()}"

    assert charge(gateway, token, ann, key) == charge(gateway, token, ann, key)


def test_stripe_reads_the_card_details_and_makes_its_own_payment_method(
    fake_stripe: FakeStripe, system: System
) -> None:
    port = stripe_port(system, fake_stripe)

    verification = port.verify_card("pm_card_visa", customer=someone())

    assert verification.token is not None and verification.token.startswith("pm_")
    assert verification.token != "pm_card_visa"
    assert verification.details is not None
    assert (verification.details.brand, verification.details.last4) == ("visa", "4242")


def test_one_stripe_customer_per_ledger_customer(fake_stripe: FakeStripe, system: System) -> None:
    port = stripe_port(system, fake_stripe)
    ann = someone()

    first = port.stripe_customer(ann)

    assert port.stripe_customer(ann) == first
    assert fake_stripe.customers[first]["metadata"]["chargeledger_customer_id"] == str(ann.id)

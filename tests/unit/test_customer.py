"""The Customer aggregate's rules, without any I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.aggregates import Customer, PaymentCard
from domain.errors import CardRequired, TopUpNotApplicable, ValidationFailed

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
CARD = PaymentCard("tok_visa", "visa", "4242", 12, 2030)


def customer(account_type: str = "prepaid", external_ref: str | None = None) -> Customer:
    return Customer(
        emp_id=uuid.UUID(int=1),
        name="Ann",
        email="ann@example.com",
        account_type=account_type,
        currency="EUR",
        external_ref=external_ref,
        auto_top_up_threshold_minor=1000,
        auto_top_up_amount_minor=3000,
        occurred_at=NOW,
        caused_by="test",
    )


def test_a_customer_with_an_external_ref_has_a_deterministic_id() -> None:
    assert customer(external_ref="crm-1").id == customer(external_ref="crm-1").id
    assert customer(external_ref="crm-1").id != customer(external_ref="crm-2").id
    assert customer().id != customer().id


def test_consent_needs_a_card() -> None:
    prepaid = customer()
    with pytest.raises(CardRequired):
        prepaid.give_auto_top_up_consent(
            threshold_minor=None, amount_minor=None, occurred_at=NOW, caused_by="t"
        )


def test_consent_is_for_prepaid_accounts_only() -> None:
    postpaid = customer("postpaid")
    postpaid.store_payment_card(CARD, occurred_at=NOW, caused_by="t")
    with pytest.raises(TopUpNotApplicable):
        postpaid.give_auto_top_up_consent(
            threshold_minor=None, amount_minor=None, occurred_at=NOW, caused_by="t"
        )


def test_consent_takes_defaults_and_lapses_with_the_card() -> None:
    prepaid = customer()
    prepaid.store_payment_card(CARD, occurred_at=NOW, caused_by="t")
    prepaid.give_auto_top_up_consent(threshold_minor=500, amount_minor=None, occurred_at=NOW, caused_by="t")
    assert (prepaid.auto_top_up_threshold_minor, prepaid.auto_top_up_amount_minor) == (500, 3000)

    prepaid.remove_payment_card(occurred_at=NOW, caused_by="t")

    assert prepaid.payment_card is None
    assert prepaid.auto_top_up_enabled is False
    kinds = [type(e).__name__ for e in prepaid.collect_events()]
    assert kinds[-2:] == ["AutoTopUpConsentWithdrawn", "PaymentCardRemoved"]


@pytest.mark.parametrize(("threshold", "amount"), [(-1, 3000), (1000, 0), (1000, -5)])
def test_consent_amounts_must_be_sensible(threshold: int, amount: int) -> None:
    prepaid = customer()
    prepaid.store_payment_card(CARD, occurred_at=NOW, caused_by="t")
    with pytest.raises(ValidationFailed):
        prepaid.give_auto_top_up_consent(
            threshold_minor=threshold, amount_minor=amount, occurred_at=NOW, caused_by="t"
        )


def test_removing_a_missing_card_records_nothing() -> None:
    prepaid = customer()
    prepaid.collect_events()
    prepaid.remove_payment_card(occurred_at=NOW, caused_by="t")
    assert prepaid.collect_events() == []

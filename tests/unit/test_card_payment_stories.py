"""Card payments by purpose, approved and declined: a manual top-up, an automatic top-up, a
package paid up front, and Recurring Payment of a due debit."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from commands.messages import StorePaymentCard
from domain.errors import CardRequired, PaymentDeclined, TopUpNotApplicable
from tests.unit.ledger_story import ACTOR, DECLINED_CARD, FAILING_CARD, VISA, LedgerStory


@pytest.fixture
def story() -> LedgerStory:
    return LedgerStory()


# --- manual top-up (seed 000, option 2: the customer portal) -----------------------------


def test_a_manual_top_up_is_charged_to_the_card_and_credited(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)

    answer = story.top_up(ann, 2500)

    assert answer.balance_minor == 2500
    assert story.balance(ann) == 2500
    assert story.transactions(ann) == [("top_up", 2500)]
    assert story.descriptions(ann) == ["Manual top-up"]
    assert story.card_charges() == [(2500, True)]


def test_a_manual_top_up_repeated_with_its_request_key_charges_the_card_once(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)

    first = story.top_up(ann, 1000, request_key="portal-1")
    again = story.top_up(ann, 1000, request_key="portal-1")
    other = story.top_up(ann, 1000, request_key="portal-2")

    assert again.id == first.id != other.id
    assert again.balance_minor == 1000
    assert story.balance(ann) == 2000
    assert story.card_charges() == [(1000, True), (1000, True)]


def test_a_declined_manual_top_up_is_answered_payment_declined(story: LedgerStory) -> None:
    ann = story.customer(card=FAILING_CARD)

    with pytest.raises(PaymentDeclined):
        story.top_up(ann, 2500)

    assert story.balance(ann) == 0
    assert story.transactions(ann) == []
    assert story.failed_payments(ann) == [("manual_top_up", 2500, "card_declined")]


def test_a_declined_manual_top_up_repeated_with_its_request_key_is_declined_again_not_charged_again(
    story: LedgerStory,
) -> None:
    ann = story.customer(card=FAILING_CARD)
    for _ in range(2):
        with pytest.raises(PaymentDeclined):
            story.top_up(ann, 2500, request_key="portal-1")
    assert story.card_charges() == [(2500, False)]
    assert len(story.failed_payments(ann)) == 1


def test_a_manual_top_up_needs_a_card(story: LedgerStory) -> None:
    ann = story.customer()
    with pytest.raises(CardRequired):
        story.top_up(ann, 2500)
    assert story.card_charges() == []


def test_a_postpaid_account_is_not_topped_up(story: LedgerStory) -> None:
    bob = story.customer("postpaid", card=VISA)
    with pytest.raises(TopUpNotApplicable):
        story.top_up(bob, 2500)
    assert story.card_charges() == []


def test_a_card_the_gateway_refuses_is_never_stored(story: LedgerStory) -> None:
    ann = story.customer()
    with pytest.raises(PaymentDeclined):
        story.do(StorePaymentCard(story.emp_id, ann, DECLINED_CARD, ACTOR))
    with pytest.raises(CardRequired):  # there is still no card to charge
        story.top_up(ann, 2500)


# --- packages paid up front by card ---------------------------------------------------------


def test_a_top_up_package_posts_debit_and_payment_and_credits_the_balance(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)
    subscription = story.subscribe(ann, "BASE-PRE")

    story.purchase(subscription, "TOPUP-20")

    assert story.transactions(ann) == [("prepayment", -2000), ("payment", 2000), ("top_up", 2000)]
    assert story.balance(ann) == 2000
    assert story.package_codes(subscription) == ["BASE-PRE", "TOPUP-20"]
    assert story.card_charges() == [(2000, True)]


def test_a_postpaid_non_recurring_bolt_on_is_paid_up_front_by_card(story: LedgerStory) -> None:
    bob = story.customer("postpaid", card=VISA)
    subscription = story.subscribe(bob, "BASE-POST")

    story.purchase(subscription, "ONCE")

    assert story.transactions(bob) == [("prepayment", -500), ("payment", 500)]
    assert story.balance(bob) == 0
    assert story.package_codes(subscription) == ["BASE-POST", "ONCE"]
    assert story.card_charges() == [(500, True)]


def test_a_purchase_repeated_with_its_request_key_charges_the_card_once(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)
    subscription = story.subscribe(ann, "BASE-PRE")

    first = story.purchase(subscription, "TOPUP-20", request_key="shop-1")
    again = story.purchase(subscription, "TOPUP-20", request_key="shop-1")

    assert (again.id, again.created) == (first.id, False)
    assert story.balance(ann) == 2000
    assert story.card_charges() == [(2000, True)]


@pytest.mark.parametrize(
    ("account_type", "base", "package", "price"),
    [("prepaid", "BASE-PRE", "TOPUP-20", 2000), ("postpaid", "BASE-POST", "ONCE", 500)],
)
def test_a_declined_package_purchase_acquires_nothing(
    story: LedgerStory, account_type: str, base: str, package: str, price: int
) -> None:
    ann = story.customer(account_type, card=FAILING_CARD)
    subscription = story.subscribe(ann, base)

    with pytest.raises(PaymentDeclined):
        story.purchase(subscription, package)

    assert story.transactions(ann) == []
    assert story.package_codes(subscription) == [base]
    assert story.failed_payments(ann) == [("package_purchase", price, "card_declined")]


# --- every purpose declined ---------------------------------------------------------------


def declined_manual_top_up(story: LedgerStory) -> UUID:
    ann = story.customer(card=FAILING_CARD)
    with pytest.raises(PaymentDeclined):
        story.top_up(ann, 3000)
    return ann


def declined_automatic_top_up(story: LedgerStory) -> UUID:
    ann = story.customer(card=FAILING_CARD, auto_top_up=True)
    story.session(ann, 100)  # below the threshold: an automatic top-up of 30.00
    story.run_card_payment_worker()
    return ann


def declined_package_purchase(story: LedgerStory) -> UUID:
    ann = story.customer(card=FAILING_CARD)
    with pytest.raises(PaymentDeclined):
        story.purchase(story.subscribe(ann, "BASE-PRE"), "TOPUP-20")
    return ann


def declined_recurring_payment(story: LedgerStory) -> UUID:
    ann = story.customer(card=FAILING_CARD)
    story.subscribe(ann, "BASE-PRE")
    story.run_job("recurring-prepayment")
    story.run_job("recurring-payment")
    return ann


@pytest.mark.parametrize(
    ("pay", "purpose", "amount", "debited"),
    [
        (declined_manual_top_up, "manual_top_up", 3000, []),
        (declined_automatic_top_up, "automatic_top_up", 3000, [("session", -100)]),
        (declined_package_purchase, "package_purchase", 2000, []),
        (declined_recurring_payment, "recurring_payment", 990, [("prepayment", -990)]),
    ],
)
def test_a_declined_card_payment_credits_nothing_and_records_the_failure(
    story: LedgerStory,
    pay: Callable[[LedgerStory], UUID],
    purpose: str,
    amount: int,
    debited: list[tuple[str, int]],
) -> None:
    ann = pay(story)

    assert story.transactions(ann) == debited  # no top-up, no payment
    assert story.balance(ann) == sum(amount for _, amount in debited)
    assert story.failed_payments(ann) == [(purpose, amount, "card_declined")]
    assert story.card_charges() == [(amount, False)]
    assert story.pending_payments(ann) == []

"""Automatic top-up (seed 000, option 1): a debit that leaves the balance below the threshold
requests one card charge of the agreed amount, which the card-payment worker completes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest

from commands.messages import RemovePaymentCard, SetAutoTopUp
from commands.simulated_gateway import InMemoryGateway
from domain.errors import CardRequired, TopUpNotApplicable, ValidationFailed
from tests.unit.ledger_story import ACTOR, FAILING_CARD, VISA, LedgerStory


@pytest.fixture
def story() -> LedgerStory:
    return LedgerStory()


def consenting(
    story: LedgerStory,
    funded_with: int = 1500,
    threshold_minor: int | None = None,
    amount_minor: int | None = None,
) -> UUID:
    """A prepaid customer with a card, consent (EMP defaults: below 10.00, top up 30.00) and
    a manual top-up to start with."""
    ann = story.customer(
        card=VISA, auto_top_up=True, threshold_minor=threshold_minor, amount_minor=amount_minor
    )
    if funded_with:
        story.top_up(ann, funded_with)
    return ann


def test_a_session_below_the_threshold_is_topped_up_by_the_card(story: LedgerStory) -> None:
    ann = consenting(story)

    charged = story.session(ann, 600)

    assert charged.balance_minor == 900  # the session's own answer: the top-up comes after
    assert len(story.pending_payments(ann)) == 1
    story.run_card_payment_worker()
    assert story.balance(ann) == 3900
    assert story.transactions(ann) == [("top_up", 1500), ("session", -600), ("top_up", 3000)]
    assert story.descriptions(ann)[-1] == "Automatic top-up"
    assert story.card_charges()[-1] == (3000, True)
    assert story.pending_payments(ann) == []


def session_of_600(story: LedgerStory, ann: UUID) -> None:
    story.session(ann, 600)


def recurring_debit_of_990(story: LedgerStory, ann: UUID) -> None:
    story.subscribe(ann, "BASE-PRE")
    story.run_job("recurring-prepayment")


def bolt_on_of_500_from_the_balance(story: LedgerStory, ann: UUID) -> None:
    story.purchase(story.subscribe(ann, "BASE-PRE"), "ONCE")


@pytest.mark.parametrize(
    ("funded_with", "debit", "balance_left"),
    [
        (1500, session_of_600, 900),
        (1500, recurring_debit_of_990, 510),
        (1499, bolt_on_of_500_from_the_balance, 999),
    ],
    ids=["session", "recurring prepayment", "bolt-on paid from the balance"],
)
def test_every_kind_of_debit_below_the_threshold_requests_a_top_up(
    story: LedgerStory, funded_with: int, debit: Callable[[LedgerStory, UUID], None], balance_left: int
) -> None:
    ann = consenting(story, funded_with=funded_with)

    debit(story, ann)

    assert story.balance(ann) == balance_left
    assert len(story.pending_payments(ann)) == 1
    story.run_card_payment_worker()
    assert story.balance(ann) == balance_left + 3000


@pytest.mark.parametrize(("cost", "requested"), [(499, False), (500, False), (501, True)])
def test_only_a_balance_strictly_below_the_threshold_requests_a_top_up(
    story: LedgerStory, cost: int, requested: bool
) -> None:
    ann = consenting(story)  # 15.00, threshold 10.00

    story.session(ann, cost)

    assert bool(story.pending_payments(ann)) is requested
    story.run_card_payment_worker()
    assert story.balance(ann) == 1500 - cost + (3000 if requested else 0)


def test_no_second_top_up_while_one_is_in_flight(story: LedgerStory) -> None:
    ann = consenting(story)

    for _ in range(4):
        story.session(ann, 400)  # 11.00, 7.00, 3.00, -1.00: each below the threshold but the first

    assert len(story.pending_payments(ann)) == 1
    story.run_card_payment_worker()
    assert story.balance(ann) == -100 + 3000
    assert story.transactions(ann).count(("top_up", 3000)) == 1
    assert story.card_charges() == [(1500, True), (3000, True)]


def test_after_a_top_up_the_next_debit_below_the_threshold_requests_another(story: LedgerStory) -> None:
    ann = consenting(story, funded_with=0)
    story.session(ann, 100)
    story.run_card_payment_worker()  # 29.00

    story.session(ann, 2000)  # 9.00

    story.run_card_payment_worker()
    assert story.balance(ann) == 3900
    assert story.transactions(ann).count(("top_up", 3000)) == 2


def declining_first_charges(count: int) -> InMemoryGateway:
    """A card that declines its first `count` charges, and is fine afterwards."""
    seen: list[str] = []

    def declines(token: str) -> str | None:
        seen.append(token)
        return "insufficient_funds" if len(seen) <= count else None

    return InMemoryGateway(declines=declines)


def test_a_declined_automatic_top_up_is_not_retried_within_24_hours() -> None:
    story = LedgerStory(declining_first_charges(1))
    ann = consenting(story, funded_with=0)
    story.session(ann, 300)
    story.run_card_payment_worker()
    assert story.failed_payments(ann) == [("automatic_top_up", 3000, "insufficient_funds")]
    assert story.balance(ann) == -300

    story.clock.advance(timedelta(hours=23, minutes=59))
    story.session(ann, 300)
    assert story.pending_payments(ann) == []
    assert story.balance(ann) == -600

    story.clock.advance(timedelta(minutes=1))  # 24 hours after the decline
    story.session(ann, 300)
    story.run_card_payment_worker()
    assert story.balance(ann) == -900 + 3000
    assert story.failed_payments(ann) == [("automatic_top_up", 3000, "insufficient_funds")]
    assert story.card_charges() == [(3000, False), (3000, True)]


def test_a_declined_automatic_top_up_credits_nothing_and_records_the_failure(story: LedgerStory) -> None:
    ann = story.customer(card=FAILING_CARD, auto_top_up=True)

    story.session(ann, 400)
    [completed] = story.run_card_payment_worker()

    assert completed.approved is False
    assert story.balance(ann) == -400
    assert story.transactions(ann) == [("session", -400)]
    assert story.failed_payments(ann) == [("automatic_top_up", 3000, "card_declined")]
    assert story.pending_payments(ann) == []


def without_consent(story: LedgerStory) -> UUID:
    return story.customer(card=VISA)


def with_consent_withdrawn(story: LedgerStory) -> UUID:
    ann = story.customer(card=VISA, auto_top_up=True)
    story.do(SetAutoTopUp(story.emp_id, ann, False, None, None, ACTOR))
    return ann


def with_the_card_removed(story: LedgerStory) -> UUID:
    ann = story.customer(card=VISA, auto_top_up=True)
    story.do(RemovePaymentCard(story.emp_id, ann, ACTOR))  # consent lapses with the card
    return ann


@pytest.mark.parametrize("customer", [without_consent, with_consent_withdrawn, with_the_card_removed])
def test_no_automatic_top_up_without_consent_and_a_card(
    story: LedgerStory, customer: Callable[[LedgerStory], UUID]
) -> None:
    ann = customer(story)

    story.session(ann, 500)

    assert story.pending_payments(ann) == []
    assert story.run_card_payment_worker() == []
    assert story.balance(ann) == -500
    assert story.card_charges() == []


def test_consent_needs_a_card(story: LedgerStory) -> None:
    ann = story.customer()
    with pytest.raises(CardRequired):
        story.do(SetAutoTopUp(story.emp_id, ann, True, None, None, ACTOR))


def test_consent_is_for_prepaid_accounts_only(story: LedgerStory) -> None:
    bob = story.customer("postpaid", card=VISA)
    with pytest.raises(TopUpNotApplicable):
        story.do(SetAutoTopUp(story.emp_id, bob, True, None, None, ACTOR))
    story.session(bob, 5000)
    assert story.pending_payments(bob) == []


@pytest.mark.parametrize(("threshold", "amount"), [(-1, 3000), (1000, 0), (1000, -5)])
def test_consent_amounts_must_be_sensible(story: LedgerStory, threshold: int, amount: int) -> None:
    ann = story.customer(card=VISA)
    with pytest.raises(ValidationFailed):
        story.do(SetAutoTopUp(story.emp_id, ann, True, threshold, amount, ACTOR))


def test_consent_takes_the_emp_defaults_for_what_it_leaves_out(story: LedgerStory) -> None:
    ann = consenting(story, funded_with=0, threshold_minor=500)

    story.session(ann, 500)  # -5.00: below 5.00
    story.run_card_payment_worker()

    assert story.balance(ann) == -500 + 3000  # the EMP's default amount


def test_a_top_up_never_triggers_another(story: LedgerStory) -> None:
    ann = consenting(story, funded_with=0, threshold_minor=5000, amount_minor=1000)

    story.session(ann, 100)  # -1.00: below 50.00; a top-up of 10.00 leaves 9.00, still below
    story.run_card_payment_worker()

    assert story.balance(ann) == 900
    assert story.pending_payments(ann) == []
    assert story.run_card_payment_worker() == []
    assert story.transactions(ann) == [("session", -100), ("top_up", 1000)]


def test_a_manual_top_up_below_the_threshold_requests_nothing(story: LedgerStory) -> None:
    ann = consenting(story, funded_with=500)  # 5.00 is below 10.00, but a top-up is no debit

    assert story.pending_payments(ann) == []
    assert story.balance(ann) == 500


def test_an_automatic_top_up_completed_twice_is_credited_once(story: LedgerStory) -> None:
    ann = consenting(story)
    story.session(ann, 600)
    [payment] = story.pending_payments(ann)

    first = story.complete_card_payment(ann, payment)
    again = story.complete_card_payment(ann, payment)  # a second worker, or one after a crash

    assert (first.approved, again.created) == (True, False)
    assert story.balance(ann) == 3900
    assert story.transactions(ann).count(("top_up", 3000)) == 1
    assert story.card_charges() == [(1500, True), (3000, True)]

"""Seed 003's batch jobs for prepaid packages: Recurring Prepayment posts a debit for every
started period, Recurring Payment pays each due debit from the balance, else by card, else
records a failure; dunning (tests/unit/test_dunning_stories.py) tries again on its days."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from commands.messages import CancelPackage, DefinePackage, StorePaymentCard
from domain.aggregates import PaymentCard
from tests.unit.ledger_story import ACTOR, FAILING_CARD, START, VISA, LedgerStory

PREPAYMENT = "recurring-prepayment"
PAYMENT = "recurring-payment"
BASE = ("prepayment", -990)


@pytest.fixture
def story() -> LedgerStory:
    return LedgerStory()


def subscribed(story: LedgerStory, *, card: PaymentCard | None = VISA, funded_with: int = 0) -> UUID:
    """A prepaid customer on BASE-PRE (9.90 a month) since START."""
    ann = story.customer(card=card)
    if funded_with:
        story.top_up(ann, funded_with)
    story.subscribe(ann, "BASE-PRE")
    return ann


# --- Recurring Prepayment -------------------------------------------------------------------


def test_the_first_period_is_debited_when_it_starts(story: LedgerStory) -> None:
    ann = subscribed(story)

    midnight = START.replace(hour=0)  # periods run from midnight to midnight (UTC here)
    story.run_job(PREPAYMENT, midnight - timedelta(seconds=1))
    assert story.transactions(ann) == []

    story.run_job(PREPAYMENT, midnight)
    assert story.transactions(ann) == [BASE]
    assert story.descriptions(ann) == ["Package BASE-PRE, 2026-03-02 to 2026-04-02"]
    assert story.balance(ann) == -990


def test_missed_periods_are_each_debited_once_when_the_job_catches_up(story: LedgerStory) -> None:
    ann = subscribed(story)
    story.run_job(PREPAYMENT, START)
    story.clock.set(START + timedelta(days=62))  # 2026-05-03: the job did not run for two months

    story.run_job(PREPAYMENT)

    assert story.transactions(ann) == [BASE] * 3
    assert story.descriptions(ann)[1:] == [
        "Package BASE-PRE, 2026-04-02 to 2026-05-02",
        "Package BASE-PRE, 2026-05-02 to 2026-06-02",
    ]
    assert story.balance(ann) == -2970


def test_a_period_that_has_not_started_is_not_debited(story: LedgerStory) -> None:
    ann = subscribed(story)
    story.run_job(
        PREPAYMENT, (START + timedelta(days=31)).replace(hour=0) - timedelta(seconds=1)
    )  # 04-01 23:59:59
    assert story.transactions(ann) == [BASE]


def test_a_recurring_bolt_on_is_debited_on_its_own_anniversaries(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)
    subscription = story.subscribe(ann, "BASE-PRE")
    story.clock.set(START + timedelta(days=10))
    story.purchase(subscription, "BOLT-PRE")  # recurring: paid later, by the jobs
    assert story.transactions(ann) == []

    story.run_job(PREPAYMENT, START + timedelta(days=31))

    assert sorted(story.descriptions(ann)) == [
        "Package BASE-PRE, 2026-03-02 to 2026-04-02",
        "Package BASE-PRE, 2026-04-02 to 2026-05-02",
        "Package BOLT-PRE, 2026-03-12 to 2026-04-12",
    ]


def test_a_cancelled_bolt_on_is_not_debited_again(story: LedgerStory) -> None:
    ann = story.customer(card=VISA)
    subscription = story.subscribe(ann, "BASE-PRE")
    bolt_on = story.purchase(subscription, "BOLT-PRE")
    story.run_job(PREPAYMENT, START)
    story.clock.set(START + timedelta(days=20))
    story.do(CancelPackage(story.emp_id, subscription, bolt_on.id, ACTOR))

    story.run_job(PREPAYMENT, START + timedelta(days=62))

    assert story.transactions(ann).count(("prepayment", -300)) == 1
    assert story.transactions(ann).count(BASE) == 3


# --- Recurring Payment ----------------------------------------------------------------------


def test_a_due_debit_the_balance_covers_is_paid_from_the_balance(story: LedgerStory) -> None:
    ann = subscribed(story, funded_with=2000)
    story.run_job(PREPAYMENT)

    story.run_job(PAYMENT)

    assert story.debits_settled(ann) == ["balance"]
    assert story.transactions(ann) == [("top_up", 2000), BASE]  # nothing more moves
    assert story.balance(ann) == 1010
    assert story.card_charges() == [(2000, True)]  # the top-up only


def test_the_balance_covers_a_debit_even_when_later_debits_took_it_below_zero(story: LedgerStory) -> None:
    ann = subscribed(story, funded_with=1000)
    story.clock.set(START + timedelta(days=31))
    story.run_job(PREPAYMENT)  # two periods: 10.00 - 2 x 9.90 = -9.80

    story.run_job(PAYMENT)

    # The older debit is covered by what was there before the later one; the later one is not.
    assert story.debits_settled(ann) == ["balance", "card"]
    assert story.transactions(ann) == [("top_up", 1000), BASE, BASE, ("payment", 990)]
    assert story.balance(ann) == 10
    assert story.card_charges() == [(1000, True), (990, True)]


def test_a_balance_that_covers_every_due_debit_pays_them_all(story: LedgerStory) -> None:
    ann = subscribed(story, funded_with=3000)
    story.clock.set(START + timedelta(days=62))
    story.run_job(PREPAYMENT)

    story.run_job(PAYMENT)

    assert story.debits_settled(ann) == ["balance"] * 3
    assert story.balance(ann) == 30


def test_a_due_debit_the_balance_does_not_cover_is_paid_by_the_card(story: LedgerStory) -> None:
    ann = subscribed(story)
    story.run_job(PREPAYMENT)

    story.run_job(PAYMENT)

    assert story.debits_settled(ann) == ["card"]
    assert story.transactions(ann) == [BASE, ("payment", 990)]
    assert story.descriptions(ann)[-1] == "Card payment"
    assert story.balance(ann) == 0
    assert story.card_charges() == [(990, True)]


def test_an_automatic_top_up_the_debit_asked_for_is_completed_first_and_pays_the_debit(
    story: LedgerStory,
) -> None:
    ann = story.customer(card=VISA, auto_top_up=True)
    story.subscribe(ann, "BASE-PRE")
    story.run_job(PREPAYMENT)  # -9.90 leaves the balance below 10.00: a top-up of 30.00 is asked for

    story.run_job(PAYMENT)  # before the card-payment worker came by

    assert story.transactions(ann) == [BASE, ("top_up", 3000)]
    assert story.debits_settled(ann) == ["balance"]
    assert story.card_charges() == [(3000, True)]  # the top-up only, not the debit as well
    assert story.balance(ann) == 2010


@pytest.mark.parametrize(("card", "decline"), [(None, "no_card"), (FAILING_CARD, "card_declined")])
def test_an_unpayable_debit_is_a_failure_tried_again_on_dunning_s_retry_days(
    story: LedgerStory, card: PaymentCard | None, decline: str
) -> None:
    ann = subscribed(story, card=card)
    story.run_job(PREPAYMENT)

    story.run_job(PAYMENT)
    assert story.failed_payments(ann) == [("recurring_payment", 990, decline)]
    assert story.debits_settled(ann) == []
    assert story.balance(ann) == -990

    story.clock.set(START + timedelta(hours=12))  # the same day: nothing tried again
    story.run_job(PAYMENT)
    assert len(story.failed_payments(ann)) == 1

    story.clock.set(START + timedelta(days=1))  # dunning's first retry day (1, 3, 7)
    story.run_job(PAYMENT)
    retried = 2 if card is not None else 1  # without a card there is nothing to retry
    assert story.failed_payments(ann) == [("recurring_payment", 990, decline)] * retried
    assert story.balance(ann) == -990
    assert story.card_charges() == ([] if card is None else [(990, False)] * 2)


def test_a_failed_debit_is_paid_at_once_when_a_card_is_stored(story: LedgerStory) -> None:
    ann = subscribed(story, card=None)
    story.run_job(PREPAYMENT)
    story.run_job(PAYMENT)
    assert story.debits_settled(ann) == []

    story.do(StorePaymentCard(story.emp_id, ann, VISA, ACTOR))

    assert story.debits_settled(ann) == ["card"]
    assert story.balance(ann) == 0


def test_a_second_run_of_both_jobs_changes_nothing(story: LedgerStory) -> None:
    paid_by_card = subscribed(story)
    failing = subscribed(story, card=FAILING_CARD)
    covered = subscribed(story, funded_with=5000)
    story.clock.set(START + timedelta(days=40))
    for job in (PREPAYMENT, PAYMENT):
        story.run_job(job)
    customers = (paid_by_card, failing, covered)
    before = {ann: (story.history(ann), story.balance(ann)) for ann in customers}
    charges = story.card_charges()

    for job in (PREPAYMENT, PAYMENT):
        story.run_job(job)

    assert {ann: (story.history(ann), story.balance(ann)) for ann in customers} == before
    assert story.card_charges() == charges


def test_a_free_package_s_period_is_posted_and_settled_at_once(story: LedgerStory) -> None:
    story.do(DefinePackage(story.emp_id, "FREE-PRE", "Free", "base", True, "prepaid", 0, ACTOR))
    ann = story.customer()  # no card, and a balance below zero
    story.session(ann, 500)
    story.subscribe(ann, "FREE-PRE")

    story.run_job(PREPAYMENT)
    story.run_job(PAYMENT)

    assert story.transactions(ann) == [("session", -500), ("prepayment", 0)]
    assert story.failed_payments(ann) == []  # nothing owed, nothing to fail or to mail
    assert story.card_charges() == []

"""Dunning (domain/dunning.py) told as stories: a prepaid customer's debit that stays unpaid
walks the EMP's ladder - a mail on the due date, a card retry and a mail on days 1, 3 and 7, a
block on day 14 - counted in the EMP's local days, and it ends at once when paid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from commands.messages import ChangeEmp, RegisterEmp, StorePaymentCard
from commands.simulated_gateway import InMemoryGateway
from domain.aggregates import Customer, PaymentCard
from domain.authorization import authorization
from domain.explanation import explain
from tests.unit.ledger_story import ACTOR, FAILING_CARD, START, VISA, LedgerStory

EXPIRED_CARD = PaymentCard("tok_chargeDeclinedExpiredCard", "visa", "0069", 12, 2030)
# Helsinki is UTC+2 in March: 22:30 UTC is already 00:30 of the next local day.
LATE_EVENING = timedelta(hours=22, minutes=30)
MIDNIGHT_UTC = START.replace(hour=0)


class DecliningWhileTold:
    def __init__(self) -> None:
        self.declining = True

    def __call__(self, token: str) -> str | None:
        return "card_declined" if self.declining else None


@pytest.fixture
def card_fails() -> DecliningWhileTold:
    return DecliningWhileTold()


@pytest.fixture
def story(card_fails: DecliningWhileTold) -> LedgerStory:
    """An EMP in Helsinki, with the default ladder (retries on days 1, 3, 7; blocked on day 14)."""
    told = LedgerStory(InMemoryGateway(declines=card_fails))
    told.emp_id = told.do(
        RegisterEmp("Volt Helsinki", "EUR", 1000, 3000, ACTOR, time_zone="Europe/Helsinki")
    ).id
    told.copy_catalog(told.emp_id)
    return told


def overdue_customer(story: LedgerStory, card: PaymentCard | None = VISA) -> UUID:
    """A prepaid customer whose 9.90 debit, due on 2 March (local), is not paid that day."""
    ann = story.customer(card=card)
    story.subscribe(ann, "BASE-PRE")
    story.run_job("recurring-prepayment")
    story.run_job("recurring-payment")
    return ann


def nights(story: LedgerStory, last_day: int) -> None:
    """The daily Recurring Payment run at 22:30 UTC (00:30 in Helsinki) up to that day of March."""
    for day in range(1, last_day):
        story.clock.set(MIDNIGHT_UTC + timedelta(days=day - 2) + LATE_EVENING)
        story.run_job("recurring-payment")


def steps(story: LedgerStory, customer_id: UUID) -> list[tuple[int, int, bool, bool]]:
    """Each dunning step in the customer's history: step, day, card retried, blocked."""
    return [
        (e.step, e.day, e.retried, e.blocked)
        for e in story.history(customer_id)
        if isinstance(e, Customer.DunningStepTaken)
    ]


def customer(story: LedgerStory, customer_id: UUID) -> Customer:
    return story.services.ledger.get_customer(customer_id, story.emp_id)


def ended(story: LedgerStory, customer_id: UUID) -> list[str]:
    return [e.reason for e in story.history(customer_id) if isinstance(e, Customer.DunningEnded)]


def test_the_ladder_runs_on_the_emp_s_local_days_and_blocks_on_day_14(story: LedgerStory) -> None:
    ann = overdue_customer(story)
    assert steps(story, ann) == [(1, 0, False, False)]  # the due date: a mail

    nights(story, 15)  # 1 March 22:30 UTC is 2 March in Helsinki: day 0, nothing again
    story.clock.set(MIDNIGHT_UTC + timedelta(days=13) + LATE_EVENING)  # 16 March in Helsinki: day 14
    run = story.run_job("recurring-payment")  # its results list dunning's steps

    assert run.details == {"declined": 0, "dunning_steps": 0, "blocked": 1, "dunning_ended": 0}
    assert steps(story, ann) == [
        (1, 0, False, False),
        (2, 1, True, False),
        (3, 3, True, False),
        (4, 7, True, False),
        (5, 14, False, True),
    ]
    taken = [e.occurred_at for e in story.history(ann) if isinstance(e, Customer.DunningStepTaken)]
    assert [t.strftime("%m-%d %H:%M") for t in taken[1:]] == [
        "03-02 22:30",
        "03-04 22:30",
        "03-08 22:30",
        "03-15 22:30",
    ]
    assert story.card_charges() == [(990, False)] * 4  # the due date and the three retry days
    assert authorization(customer(story, ann)) == "BLOCKED"


def test_a_hard_decline_stops_card_retries_but_not_mails_or_the_block(story: LedgerStory) -> None:
    ann = overdue_customer(story, card=EXPIRED_CARD)
    assert story.failed_payments(ann) == [("recurring_payment", 990, "expired_card")]

    nights(story, 17)

    assert steps(story, ann) == [
        (1, 0, False, False),
        (2, 1, False, False),
        (3, 3, False, False),
        (4, 7, False, False),
        (5, 14, False, True),
    ]
    assert story.card_charges() == [(990, False)]
    assert authorization(customer(story, ann)) == "BLOCKED"


def test_less_than_the_minimum_overdue_is_not_dunned(story: LedgerStory) -> None:
    story.do(ChangeEmp(story.emp_id, {"dunning": {"retry_after_days": [1], "block_after_days": 2,
                                                  "minimum_minor": 1000}}, ACTOR))  # fmt: skip
    ann = overdue_customer(story)
    nights(story, 17)

    assert steps(story, ann) == []
    assert customer(story, ann).dunning is None
    assert authorization(customer(story, ann)) == "NO_CREDIT"  # its balance, not a block


def test_dunning_turned_off_takes_no_step_and_retries_nothing(story: LedgerStory) -> None:
    story.do(ChangeEmp(story.emp_id, {"dunning": None}, ACTOR))
    ann = overdue_customer(story)
    nights(story, 40)

    assert steps(story, ann) == []
    assert story.card_charges() == [(990, False)]  # the due date's payment only
    assert authorization(customer(story, ann)) == "NO_CREDIT"


def test_a_top_up_pays_what_is_overdue_and_lifts_the_block_at_once(
    story: LedgerStory, card_fails: DecliningWhileTold
) -> None:
    ann = overdue_customer(story)
    nights(story, 17)
    assert authorization(customer(story, ann)) == "BLOCKED"

    card_fails.declining = False
    story.top_up(ann, 2000)

    assert story.debits_settled(ann) == ["balance"]
    assert ended(story, ann) == ["paid"]
    assert customer(story, ann).dunning is None
    assert authorization(customer(story, ann)) == "ALLOWED"
    assert story.balance(ann) == 2000 - 990
    lines = [line.description for line in explain(story.history(ann)).lines if line.delta_minor == 0]
    assert lines[-3:] == ["Dunning step 4 on day 7, card retried", "Dunning step 5 on day 14, blocked",
                          "Dunning ended (paid), unblocked"]  # fmt: skip


def test_a_new_card_pays_what_is_overdue_right_away(
    story: LedgerStory, card_fails: DecliningWhileTold
) -> None:
    ann = overdue_customer(story, card=FAILING_CARD)
    nights(story, 5)
    assert [step for step, *_ in steps(story, ann)] == [1, 2, 3]
    card_fails.declining = False  # the old card still fails; the new one works

    story.do(StorePaymentCard(story.emp_id, ann, PaymentCard("tok_mastercard", "mc", "4444", 1, 2031), ACTOR))

    assert story.debits_settled(ann) == ["card"]
    assert ended(story, ann) == ["paid"]
    assert story.balance(ann) == 0
    nights(story, 17)
    assert len(steps(story, ann)) == 3  # no more steps


def test_no_step_is_taken_twice(story: LedgerStory) -> None:
    ann = overdue_customer(story)
    nights(story, 9)
    before: list[Any] = story.history(ann)
    charges = story.card_charges()

    for _ in range(3):  # the same day's run again, and again
        run = story.run_job("recurring-payment")
        assert run.details == {"declined": 0, "dunning_steps": 0, "blocked": 0, "dunning_ended": 0}

    assert story.history(ann) == before
    assert story.card_charges() == charges
    assert [step for step, *_ in steps(story, ann)] == [1, 2, 3, 4]


def test_a_missed_night_makes_up_the_last_step_once(story: LedgerStory) -> None:
    ann = overdue_customer(story)
    story.clock.set(MIDNIGHT_UTC + timedelta(days=5))  # the job did not run on days 1 to 4

    story.run_job("recurring-payment")

    assert steps(story, ann) == [(1, 0, False, False), (3, 5, True, False)]  # step 3, taken on day 5


def test_dunning_that_starts_late_starts_with_its_first_step(story: LedgerStory) -> None:
    ann = story.customer(card=FAILING_CARD)
    story.subscribe(ann, "BASE-PRE")
    story.clock.set(MIDNIGHT_UTC + timedelta(days=2))  # nothing ran until day 2 (local)
    story.run_job("recurring-prepayment")
    story.run_job("recurring-payment")
    story.run_job("recurring-payment")  # the same day again: one step a day

    assert steps(story, ann) == [(1, 2, False, False)]
    nights(story, 5)
    assert steps(story, ann) == [(1, 2, False, False), (3, 3, True, False)]  # day 3 is step 3's

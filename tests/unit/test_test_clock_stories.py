"""Test clocks as stories: an EMP on one is judged by its clock alone, and the scheduler's runs
(over every EMP) leave it to its clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands.jobs import JOBS, Scope
from commands.messages import RecordSession, RegisterCustomer, RegisterEmp, StartSubscription
from domain.aggregates import Invoice
from domain.errors import InvalidPeriod, ValidationFailed
from tests.unit.ledger_story import ACTOR, LedgerStory

CLOCK = datetime(2027, 1, 10, 12, tzinfo=UTC)


def postpaid_since(story: LedgerStory, emp_id: object, started_at: datetime) -> object:
    customer = story.do(RegisterCustomer(emp_id, "Bob", "bob@example.com", "postpaid", None, ACTOR)).id
    return story.do(StartSubscription(emp_id, customer, "BASE-POST", None, ACTOR, started_at)).id


@pytest.fixture
def story() -> LedgerStory:
    story = LedgerStory()
    story.clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))  # the real clock, well after the test clock
    return story


def clocked_emp(story: LedgerStory) -> object:
    emp = story.do(RegisterEmp("Clocked", "EUR", 1000, 3000, ACTOR, test_clock_now=CLOCK)).id
    story.copy_catalog(emp)
    return emp


def test_the_scheduler_bills_real_clock_emps_and_leaves_test_clock_ones_to_their_clock(
    story: LedgerStory,
) -> None:
    clocked = clocked_emp(story)
    on_its_clock = postpaid_since(story, clocked, datetime(2026, 11, 1, tzinfo=UTC))
    on_the_real_clock = postpaid_since(story, story.emp_id, datetime(2026, 11, 1, tzinfo=UTC))

    JOBS["invoice-production"](
        story.services, story.worklists, story.clock.now(), "job:x", Scope(story.services)
    )

    def invoiced(subscription: object) -> list[object]:
        return list(story.services.ledger.events.get(Invoice.create_id(subscription, 0)))  # type: ignore[arg-type]

    assert invoiced(on_the_real_clock) and not invoiced(on_its_clock)
    JOBS["invoice-production"](
        story.services, story.worklists, CLOCK, "job:x", Scope(story.services, clocked)
    )  # type: ignore[arg-type]
    assert invoiced(on_its_clock)  # November, by a run for that EMP as of its clock


def test_a_session_after_the_test_clocks_now_is_refused(story: LedgerStory) -> None:
    clocked = clocked_emp(story)
    customer = story.do(RegisterCustomer(clocked, "Ann", "ann@example.com", "postpaid", None, ACTOR)).id
    ended = CLOCK + timedelta(
        minutes=10
    )  # beyond the 5 minutes of charge-point clock skew; long before the real clock's now, after the EMP's
    with pytest.raises(InvalidPeriod):
        story.do(
            RecordSession(clocked, "S-1", customer, ended - timedelta(hours=1), ended, 1000, 100, None, ACTOR)
        )
    earlier = CLOCK - timedelta(minutes=5)
    story.do(
        RecordSession(clocked, "S-2", customer, earlier - timedelta(hours=1), earlier, 1000, 100, None, ACTOR)
    )
    assert story.balance(customer, clocked) == -100  # type: ignore[arg-type]


def test_a_test_clock_moves_forward_only_and_only_where_there_is_one(story: LedgerStory) -> None:
    clocked = clocked_emp(story)
    emp = story.services.ledger.get_emp(clocked)  # type: ignore[arg-type]
    with pytest.raises(InvalidPeriod):
        emp.advance_test_clock(CLOCK - timedelta(seconds=1), occurred_at=CLOCK, caused_by=ACTOR)
    emp.advance_test_clock(CLOCK, occurred_at=CLOCK, caused_by=ACTOR)
    assert not emp.pending_events  # to the same instant: nothing happens
    with pytest.raises(InvalidPeriod, match="at most 400 days"):
        emp.advance_test_clock(CLOCK + timedelta(days=401), occurred_at=CLOCK, caused_by=ACTOR)
    emp.advance_test_clock(CLOCK + timedelta(days=400), occurred_at=CLOCK, caused_by=ACTOR)
    real = story.services.ledger.get_emp(story.emp_id)
    with pytest.raises(ValidationFailed):
        real.advance_test_clock(CLOCK, occurred_at=CLOCK, caused_by=ACTOR)

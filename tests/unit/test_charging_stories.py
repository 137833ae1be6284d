"""Charging sessions: recorded whatever the balance, once per EMP and session_id."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from commands.unit_of_work import SessionRecorded
from domain.errors import Duplicate, InvalidPeriod, NotFound, ValidationFailed
from tests.unit.ledger_story import VISA, LedgerStory


@pytest.fixture
def story() -> LedgerStory:
    return LedgerStory()


@pytest.mark.parametrize(
    ("account_type", "top_up", "earlier_session", "balance_after"),
    [
        ("prepaid", 2000, 0, 1300),  # credit left
        ("prepaid", 500, 0, -200),  # the credit does not cover it
        ("prepaid", 0, 0, -700),  # no credit at all
        ("prepaid", 0, 300, -1000),  # already negative
        ("postpaid", 0, 1250, -1950),  # the negative running total of session costs
    ],
)
def test_a_session_lowers_the_balance_whatever_it_was(
    story: LedgerStory, account_type: str, top_up: int, earlier_session: int, balance_after: int
) -> None:
    ann = story.customer(account_type, card=VISA)
    if top_up:
        story.top_up(ann, top_up)
    if earlier_session:
        story.session(ann, earlier_session)

    answer = story.session(ann, 700, session_id="CDR-7", energy_wh=9_000)

    assert (answer.id, answer.created, answer.balance_minor) == (ann, True, balance_after)
    assert story.balance(ann) == balance_after
    assert story.transactions(ann)[-1] == ("session", -700)
    assert story.descriptions(ann)[-1] == "Charging session CDR-7, 9.000 kWh"


def test_a_free_session_is_recorded_and_moves_nothing(story: LedgerStory) -> None:
    ann = story.customer()
    assert story.session(ann, 0).balance_minor == 0
    assert story.transactions(ann) == [("session", 0)]


def test_the_same_session_again_answers_the_first_balance_and_charges_nothing(story: LedgerStory) -> None:
    ann = story.customer()
    first = story.session_command(ann, 700, session_id="CDR-1")
    story.do(first)
    story.session(ann, 100)  # the balance moves on

    again = story.do(first)

    assert (again.id, again.created, again.balance_minor) == (ann, False, -700)
    assert story.balance(ann) == -800
    assert story.transactions(ann) == [("session", -700), ("session", -100)]


def test_the_same_session_written_with_another_utc_offset_is_the_same_session(story: LedgerStory) -> None:
    ann = story.customer()
    first = story.session_command(ann, 700, session_id="CDR-1")
    story.do(first)
    helsinki = timezone(timedelta(hours=2))

    again = story.session(
        ann,
        700,
        session_id="CDR-1",
        started_at=first.started_at.astimezone(helsinki),
        ended_at=first.ended_at.astimezone(helsinki),
    )

    assert (again.created, again.balance_minor) == (False, -700)
    assert story.balance(ann) == -700


@pytest.mark.parametrize(
    "other_data",
    [
        {"cost_minor": 701},
        {"energy_wh": 12_501},
        {"location": "FI-ESP-002"},
        {"location": None},
        {"ended_minutes_earlier": 1},
    ],
)
def test_other_data_under_a_used_session_id_is_refused(story: LedgerStory, other_data: dict) -> None:
    ann = story.customer()
    first = story.session_command(ann, 700, session_id="CDR-1")
    story.do(first)
    details = {
        "cost_minor": first.cost_minor,
        "energy_wh": first.energy_wh,
        "location": first.location,
        "started_at": first.started_at,
        "ended_at": first.ended_at - timedelta(minutes=other_data.pop("ended_minutes_earlier", 0)),
        **other_data,
    }

    with pytest.raises(Duplicate):
        story.session(ann, session_id="CDR-1", **details)

    assert story.balance(ann) == -700
    assert story.transactions(ann) == [("session", -700)]


def test_a_used_session_id_is_refused_for_another_customer_of_the_emp(story: LedgerStory) -> None:
    ann, bob = story.customer(), story.customer()
    first = story.session_command(ann, 700, session_id="CDR-1")
    story.do(first)

    with pytest.raises(Duplicate):
        story.session(bob, 700, session_id="CDR-1", started_at=first.started_at, ended_at=first.ended_at)

    assert (story.balance(ann), story.balance(bob)) == (-700, 0)


def test_the_same_session_id_at_another_emp_is_another_session(story: LedgerStory) -> None:
    other_emp = story.register_emp("Other EMP")
    ann, bob = story.customer(), story.customer(emp_id=other_emp)
    story.session(ann, 700, session_id="CDR-1")

    answer = story.session(bob, 700, session_id="CDR-1", emp_id=other_emp)

    assert (answer.created, answer.balance_minor) == (True, -700)
    assert story.balance(bob, other_emp) == -700


@pytest.mark.parametrize(
    ("started_minutes_ago", "ended_minutes_ago"),
    [
        (10, 20),  # the end before the start
        (10, -6),  # the end in the future, beyond the charge points' clock drift
        (-60, -30),  # a session entirely in the future
    ],
)
def test_a_session_with_an_impossible_period_is_refused(
    story: LedgerStory, started_minutes_ago: int, ended_minutes_ago: int
) -> None:
    ann = story.customer()
    now = story.clock.now()

    with pytest.raises(InvalidPeriod):
        story.session(
            ann,
            700,
            started_at=now - timedelta(minutes=started_minutes_ago),
            ended_at=now - timedelta(minutes=ended_minutes_ago),
        )

    assert story.balance(ann) == 0
    assert story.transactions(ann) == []


def test_a_charge_point_clock_a_little_ahead_of_ours_is_still_now(story: LedgerStory) -> None:
    ann = story.customer()
    now = story.clock.now()
    answer = story.session(
        ann, 700, started_at=now - timedelta(minutes=30), ended_at=now + timedelta(minutes=4)
    )
    assert answer.balance_minor == -700


def test_a_session_with_a_negative_cost_is_refused(story: LedgerStory) -> None:
    ann = story.customer()
    with pytest.raises(ValidationFailed):
        story.session(ann, -5)
    assert story.transactions(ann) == []


def test_a_session_of_another_emps_customer_is_not_found(story: LedgerStory) -> None:
    other_emp = story.register_emp("Other EMP")
    bob = story.customer(emp_id=other_emp)

    with pytest.raises(NotFound):
        story.session(bob, 700, session_id="CDR-1")

    assert story.balance(bob, other_emp) == 0
    # Nothing was kept of it: the session_id is free for the customer it belongs to.
    assert story.session(bob, 700, session_id="CDR-1", emp_id=other_emp).created is True


def test_a_batch_answers_each_session_as_it_would_have_been_answered_alone(story: LedgerStory) -> None:
    other_emp = story.register_emp("Other EMP")
    ann, bob = story.customer(), story.customer(emp_id=other_emp)
    recorded_before = story.session_command(ann, 100, session_id="CDR-0")
    story.do(recorded_before)
    now = story.clock.now()

    answers = story.sessions(
        [
            story.session_command(ann, 700, session_id="CDR-1"),
            recorded_before,  # the same session again
            story.session_command(ann, 101, session_id="CDR-0"),  # other data under a used id
            story.session_command(ann, 200, session_id="CDR-2", ended_at=now + timedelta(hours=1)),
            story.session_command(bob, 300, session_id="CDR-3"),  # another EMP's customer
            story.session_command(ann, 400, session_id="CDR-4"),
        ]
    )

    assert [type(a) for a in answers] == [
        SessionRecorded,
        SessionRecorded,
        Duplicate,
        InvalidPeriod,
        NotFound,
        SessionRecorded,
    ]
    recorded = [a for a in answers if isinstance(a, SessionRecorded)]
    assert [(a.created, a.balance_minor) for a in recorded] == [(True, -800), (False, -100), (True, -1200)]
    assert story.transactions(ann) == [("session", -100), ("session", -700), ("session", -400)]
    assert story.balance(bob, other_emp) == 0


def test_a_session_sent_twice_in_one_batch_is_charged_once(story: LedgerStory) -> None:
    ann = story.customer()
    cdr = story.session_command(ann, 700, session_id="CDR-1")

    first, again = story.sessions([cdr, cdr])

    assert isinstance(first, SessionRecorded) and isinstance(again, SessionRecorded)
    assert [(a.created, a.balance_minor) for a in (first, again)] == [(True, -700), (False, -700)]
    assert story.transactions(ann) == [("session", -700)]

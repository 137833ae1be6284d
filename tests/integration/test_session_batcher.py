"""Sessions recorded many to a transaction (the batcher's group commit, the bulk route): every
session gets the answer it would have had on its own, and is charged exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import RecordSession, RegisterCustomer, RegisterEmp
from commands.session_batcher import SessionBatcher
from commands.sessions import SessionAnswer, record_sessions
from commands.unit_of_work import SessionRecorded
from domain.errors import Duplicate, InvalidPeriod, NotFound

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def system(fresh_database_url: str) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=6)
    yield built
    built.close()


@pytest.fixture
def batcher(system: System) -> Iterator[SessionBatcher]:
    started = SessionBatcher(system.services)
    yield started
    started.stop()


def postpaid_customers(system: System, count: int) -> tuple[UUID, list[UUID]]:
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
    customers = [
        handle(
            RegisterCustomer(emp.id, f"Driver {n}", f"d{n}@example.com", "postpaid", None, "test"),
            system.services,
        ).id
        for n in range(count)
    ]
    return emp.id, customers


def session(emp_id: UUID, customer_id: UUID, session_id: str, cost_minor: int) -> RecordSession:
    return RecordSession(
        emp_id=emp_id,
        session_id=session_id,
        customer_id=customer_id,
        started_at=START,
        ended_at=START + timedelta(minutes=40),
        energy_wh=9000,
        cost_minor=cost_minor,
        location=None,
        actor="test",
    )


def post(batcher: SessionBatcher, cmd: RecordSession) -> SessionAnswer:
    """What the API does per session: hand it to the batcher and wait for its answer."""
    return batcher.enqueue(cmd).result(timeout=30)


def recorded(answer: SessionAnswer) -> SessionRecorded:
    assert isinstance(answer, SessionRecorded), answer
    return answer


def balances(url: str) -> dict[UUID, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, balance_minor FROM customers").fetchall())


def test_a_lone_client_s_sessions_are_answered_in_turn(system: System, batcher: SessionBatcher) -> None:
    emp_id, (customer,) = postpaid_customers(system, 1)
    answers = [recorded(post(batcher, session(emp_id, customer, f"s{n}", 100))) for n in range(5)]

    assert [a.balance_minor for a in answers] == [-100, -200, -300, -400, -500]
    assert balances(system.database_url) == {customer: -500}


def test_concurrent_clients_each_get_their_own_answer(system: System, batcher: SessionBatcher) -> None:
    emp_id, customers = postpaid_customers(system, 4)
    clients, rounds = 8, 25
    answers: dict[str, SessionRecorded] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(clients)

    def client(n: int) -> None:
        try:
            start.wait()
            for r in range(rounds):
                sid = f"c{n}-r{r}"
                answers[sid] = recorded(post(batcher, session(emp_id, customers[n % 4], sid, 10 + n)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(answers) == clients * rounds
    # Each customer is charged by two clients (10 + n each): its balance is all of it, and
    # every answer's balance is one of the balances the customer passed through.
    expected = {customers[k]: -rounds * ((10 + k) + (10 + k + 4)) for k in range(4)}
    assert balances(system.database_url) == expected
    for sid, outcome in answers.items():
        n = int(sid[1 : sid.index("-")])
        assert outcome.id == customers[n % 4]
        assert expected[outcome.id] <= outcome.balance_minor < 0
    # Two answers for one customer never name the same balance: each saw its own charge.
    for customer in customers:
        seen = [a.balance_minor for a in answers.values() if a.id == customer]
        assert len(seen) == len(set(seen)) == 2 * rounds


def test_a_repeated_session_in_a_batch_is_recorded_once(system: System, batcher: SessionBatcher) -> None:
    emp_id, (customer,) = postpaid_customers(system, 1)
    outcomes: list[Any] = []
    start = threading.Barrier(6)

    def client() -> None:
        start.wait()
        outcomes.append(recorded(post(batcher, session(emp_id, customer, "same", 250))))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(o.created for o in outcomes) == [False] * 5 + [True]
    assert {o.balance_minor for o in outcomes} == {-250}
    assert balances(system.database_url) == {customer: -250}


def test_sessions_whose_requests_gave_up_leave_the_batcher_working(
    system: System, batcher: SessionBatcher
) -> None:
    """A request that stops waiting (its timeout, a server shutting down) cancels its session's
    future: one cancelled before its batch began is left out, one cancelled too late is
    recorded; either way the batcher goes on answering everyone else."""
    emp_id, (customer,) = postpaid_customers(system, 1)
    given_up = [batcher.enqueue(session(emp_id, customer, f"gave-up-{n}", 10)) for n in range(50)]
    cancelled = [future.cancel() for future in given_up]
    answered = recorded(post(batcher, session(emp_id, customer, "still-answered", 1000)))

    recorded_before = sum(not was_cancelled for was_cancelled in cancelled)
    assert answered.created
    assert answered.balance_minor == -(10 * recorded_before + 1000)
    assert balances(system.database_url) == {customer: -(10 * recorded_before + 1000)}


def test_one_batch_answers_each_session_as_if_it_came_alone(system: System) -> None:
    """Good, repeated, conflicting, refused and unknown sessions in one call: each gets its own
    answer, and only the good ones are charged, once."""
    emp_id, (ann, bob) = postpaid_customers(system, 2)
    first = recorded(record_sessions([session(emp_id, ann, "old", 100)], system.services)[0])
    backwards = RecordSession(emp_id, "bad", ann, START, START - timedelta(minutes=1), 1, 1, None, "t")
    batch = [
        session(emp_id, ann, "a1", 200),
        session(emp_id, ann, "old", 100),  # the same again
        session(emp_id, ann, "old", 999),  # other data under a used session_id
        backwards,
        session(emp_id, UUID(int=7), "nobody", 10),
        session(emp_id, bob, "b1", 300),
        session(emp_id, bob, "b1", 300),  # twice in one batch
        session(emp_id, ann, "a2", 50),
    ]
    answers = record_sessions(batch, system.services)

    a1, again, conflict, refused, unknown, b1, b1_again, a2 = answers
    assert (recorded(a1).balance_minor, recorded(a2).balance_minor) == (-300, -350)
    assert (recorded(again).created, recorded(again).balance_minor) == (False, first.balance_minor)
    assert isinstance(conflict, Duplicate) and conflict.field == "session_id"
    assert isinstance(refused, InvalidPeriod) and refused.field == "ended_at"
    assert isinstance(unknown, NotFound)
    assert (recorded(b1).created, recorded(b1_again).created) == (True, False)
    assert recorded(b1_again).balance_minor == recorded(b1).balance_minor == -300
    assert balances(system.database_url) == {ann: -350, bob: -300}

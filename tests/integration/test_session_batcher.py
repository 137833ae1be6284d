"""The session batcher: concurrent clients' sessions share transactions, a lone client's go
alone, and every session gets the answer it would have had on its own."""

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
from commands.unit_of_work import Outcome

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def system(fresh_database_url: str) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=6)
    built.start_projections()
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


def post(batcher: SessionBatcher, system: System, cmd: RecordSession) -> Outcome:
    """What the API does per session: submit, then wait for the read models."""
    with batcher.client():
        outcome = batcher.submit(cmd)
        assert system.progress.wait_for(outcome.position, timeout=10)
    return outcome


def balances(url: str) -> dict[UUID, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, balance_minor FROM customers").fetchall())


def test_a_lone_client_s_sessions_each_go_alone(system: System, batcher: SessionBatcher) -> None:
    emp_id, (customer,) = postpaid_customers(system, 1)
    answers = [post(batcher, system, session(emp_id, customer, f"s{n}", 100)) for n in range(5)]

    assert [a.extra["balance_minor"] for a in answers] == [-100, -200, -300, -400, -500]
    assert (batcher.batches, batcher.sessions) == (5, 5)


def test_concurrent_clients_share_transactions_and_each_gets_its_own_answer(
    system: System, batcher: SessionBatcher
) -> None:
    emp_id, customers = postpaid_customers(system, 4)
    clients, rounds = 8, 25
    answers: dict[str, Outcome] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(clients)

    def client(n: int) -> None:
        try:
            start.wait()
            for r in range(rounds):
                sid = f"c{n}-r{r}"
                answers[sid] = post(batcher, system, session(emp_id, customers[n % 4], sid, 10 + n))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(answers) == clients * rounds
    assert batcher.sessions == clients * rounds
    assert batcher.batches < batcher.sessions  # sessions shared transactions
    # Each customer is charged by two clients (10 + n each): its balance is all of it, and
    # every answer's balance is one of the balances the customer passed through.
    expected = {customers[k]: -rounds * ((10 + k) + (10 + k + 4)) for k in range(4)}
    assert balances(system.database_url) == expected
    for sid, outcome in answers.items():
        n = int(sid[1 : sid.index("-")])
        assert outcome.id == customers[n % 4]
        assert expected[outcome.id] <= outcome.extra["balance_minor"] < 0


def test_a_repeated_session_in_a_batch_is_recorded_once(system: System, batcher: SessionBatcher) -> None:
    emp_id, (customer,) = postpaid_customers(system, 1)
    outcomes: list[Any] = []
    start = threading.Barrier(6)

    def client() -> None:
        start.wait()
        outcomes.append(post(batcher, system, session(emp_id, customer, "same", 250)))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(o.created for o in outcomes) == [False] * 5 + [True]
    assert {o.extra["balance_minor"] for o in outcomes} == {-250}
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
    answered = post(batcher, system, session(emp_id, customer, "still-answered", 1000))

    recorded_before = sum(not was_cancelled for was_cancelled in cancelled)
    assert answered.created
    assert answered.extra["balance_minor"] == -(10 * recorded_before + 1000)
    assert balances(system.database_url) == {customer: -(10 * recorded_before + 1000)}

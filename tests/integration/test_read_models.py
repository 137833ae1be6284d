"""Read models: the inline ones are written in the events' own transaction; the asynchronous
ones follow the log exactly once, each on its own, restartable and rebuilt from zero alike."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from chargeledger.system import PAYMENTS, SUBSCRIPTIONS, WEBHOOKS, System, build_system
from commands.handlers import handle
from commands.messages import (
    DefinePackage,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    StorePaymentCard,
)
from domain.aggregates import PaymentCard
from projections.pipeline import ProjectionRunner
from projections.progress import Progress
from projections.subscriptions import SubscriptionsProjection

CARD = PaymentCard("tok_visa", "visa", "4242", 12, 2030)
ENDED = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def quiet_system(fresh_database_url: str) -> Iterator[System]:
    """A system whose asynchronous projections do not run until a test starts them."""
    built = build_system(fresh_database_url, pool_size=4)
    yield built
    built.close()


def an_emp(system: System) -> UUID:
    return handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services).id


def register_customers(system: System, emp: UUID, count: int) -> list[UUID]:
    ids = []
    for n in range(count):
        registration = RegisterCustomer(emp, f"Driver {n}", f"d{n}@example.com", "prepaid", None, "test")
        customer = handle(registration, system.services).id
        handle(StorePaymentCard(emp, customer, CARD, "test"), system.services)
        ids.append(customer)
    return ids


def define_packages(system: System, emp: UUID, codes: Sequence[str]) -> None:
    for code in codes:
        handle(DefinePackage(emp, code, code, "base", True, "prepaid", 990, "test"), system.services)


def charge(system: System, emp: UUID, customer: UUID, session_id: str, cost_minor: int) -> Any:
    return handle(
        RecordSession(
            emp, session_id, customer, ENDED - timedelta(hours=1), ENDED, 9000, cost_minor, None, "t"
        ),
        system.services,
    )


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def customers(url: str) -> list[tuple[Any, ...]]:
    return rows(url, "SELECT id, name, balance_minor, card_last4, version FROM customers ORDER BY id")


def packages(url: str) -> list[tuple[Any, ...]]:
    return rows(url, "SELECT emp_id, code, price_minor FROM packages ORDER BY code")


def head(system: System) -> int:
    return system.ledger.recorder.max_notification_id() or 0


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# --- inline ---------------------------------------------------------------------------------


def test_inline_models_hold_a_write_as_soon_as_it_returns(quiet_system: System) -> None:
    """No projection runs here: the accounts models are written with the events."""
    system = quiet_system
    emp = an_emp(system)
    [ann, bob] = register_customers(system, emp, 2)
    charge(system, emp, ann, "s-1", 300)
    charge(system, emp, bob, "s-2", 200)

    by_id = {row[0]: row[1:4] for row in customers(system.database_url)}
    assert by_id == {ann: ("Driver 0", -300, "4242"), bob: ("Driver 1", -200, "4242")}
    assert rows(
        system.database_url, "SELECT customer_id, type, amount_minor FROM transactions ORDER BY 3"
    ) == [
        (ann, "session", -300),
        (bob, "session", -200),
    ]
    assert rows(system.database_url, "SELECT emp_id, session_id, cost_minor FROM sessions ORDER BY 2") == [
        (emp, "s-1", 300),
        (emp, "s-2", 200),
    ]


def test_a_save_that_fails_leaves_the_inline_models_as_they_were(quiet_system: System) -> None:
    """A stale copy of one customer saved with another customer's session: the transaction
    fails whole, so neither the events nor any row of either customer is written."""
    system = quiet_system
    ledger = system.ledger
    emp = an_emp(system)
    [ann, bob] = register_customers(system, emp, 2)
    stale = ledger.get_customer(ann, emp)
    charge(system, emp, ann, "s-1", 300)  # ann moves on
    before = customers(system.database_url), rows(system.database_url, "SELECT * FROM transactions")
    fresh_bob = ledger.get_customer(bob, emp)
    for customer, session_id in ((stale, "s-2"), (fresh_bob, "s-3")):
        customer.charge_session(
            session_id=session_id, started_at=ENDED - timedelta(hours=1), ended_at=ENDED, energy_wh=1,
            cost_minor=50, location=None, now=ENDED, caused_by="test",
        )  # fmt: skip

    with pytest.raises(IntegrityError):
        ledger.save(stale, fresh_bob)

    assert (customers(system.database_url), rows(system.database_url, "SELECT * FROM transactions")) == before
    assert ledger.get_customer(bob, emp).balance_minor == 0


# --- asynchronous ---------------------------------------------------------------------------


def test_a_stopped_projection_catches_up_without_loss_or_repeats(quiet_system: System) -> None:
    system = quiet_system
    emp = an_emp(system)
    system.start_projections()
    define_packages(system, emp, ["A", "B"])
    assert system.catch_up(timeout=10)
    system.stop_projections()

    define_packages(system, emp, ["C", "D", "E"])  # recorded while the projections are down
    assert [code for _, code, _ in packages(system.database_url)] == ["A", "B"]

    system.start_projections()
    assert system.catch_up(timeout=10)
    assert [code for _, code, _ in packages(system.database_url)] == ["A", "B", "C", "D", "E"]
    assert {status.name: status.position for status in system.projection_statuses()} == {
        SUBSCRIPTIONS: head(system),
        PAYMENTS: head(system),
        WEBHOOKS: head(system),
    }


def test_a_runner_that_read_a_stretch_another_applied_applies_nothing(quiet_system: System) -> None:
    """Two runners of one projection (one per process, by mistake): the tracked position moves
    only from where a runner read it, so a stretch is never applied twice."""
    system = quiet_system
    emp = an_emp(system)
    behind = ProjectionRunner(SubscriptionsProjection(), system.ledger, system.pool, system.progress)
    behind.catch_up()  # it now believes the projection is at the emp's registration
    define_packages(system, emp, ["A", "B"])
    ahead = ProjectionRunner(SubscriptionsProjection(), system.ledger, system.pool, system.progress)
    ahead.catch_up()
    define_packages(system, emp, ["C"])

    behind.catch_up()  # its batch from the old position is refused whole; it resumes after A, B

    assert [code for _, code, _ in packages(system.database_url)] == ["A", "B", "C"]
    assert behind.status.position == head(system)


def test_two_runners_of_one_projection_apply_every_event_once(quiet_system: System) -> None:
    """Two processes running the projections, racing with different batch sizes: the read
    model ends exactly as a rebuild from zero leaves it."""
    system = quiet_system
    other = build_system(system.database_url, pool_size=2, run_migrations=False)
    emp = an_emp(system)
    runners = [
        ProjectionRunner(SubscriptionsProjection(), built.ledger, built.pool, built.progress, batch_size=size)
        for built, size in ((system, 2), (other, 3))
    ]
    for runner in runners:
        runner.start()
    try:
        for n in range(6):
            define_packages(system, emp, [f"P{n}{m}" for m in range(3)])
            for runner in runners:
                runner.wake()
        wait_until(lambda: all(runner.status.position == head(system) for runner in runners))
    finally:
        for runner in runners:
            runner.stop()
        other.close()
    raced = packages(system.database_url)
    system.rebuild()
    assert packages(system.database_url) == raced
    assert len(raced) == 18


def test_a_failing_projection_stops_only_itself_and_recovers(quiet_system: System) -> None:
    system = quiet_system
    emp = an_emp(system)
    failures = {"left": 3}

    class Flaky(SubscriptionsProjection):
        def apply(self, cursor: Any, events: Sequence[Any]) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("a bug in this projection")
            super().apply(cursor, events)

    system.projections = [Flaky() if p.name == SUBSCRIPTIONS else p for p in system.projections]
    system.start_projections()
    try:
        define_packages(system, emp, ["A"])
        [ann] = register_customers(system, emp, 1)
        # The other asynchronous model and the inline ones go on meanwhile.
        assert system.progress.wait_for(head(system), timeout=10, names=[PAYMENTS])
        assert customers(system.database_url)[0][0] == ann
        wait_until(lambda: _status(system, SUBSCRIPTIONS).restarts >= 1)
        failing = _status(system, SUBSCRIPTIONS)
        assert failing.last_error == "RuntimeError: a bug in this projection"

        assert system.progress.wait_for(head(system), timeout=30, names=[SUBSCRIPTIONS])
        wait_until(lambda: _status(system, SUBSCRIPTIONS).last_error is None)
        assert [code for _, code, _ in packages(system.database_url)] == ["A"]
        assert _status(system, SUBSCRIPTIONS).restarts == 3
    finally:
        system.stop_projections()


def _status(system: System, name: str) -> Any:
    return next(status for status in system.projection_statuses() if status.name == name)


def test_another_process_waits_on_the_positions_the_runners_announce(quiet_system: System) -> None:
    """An API process that does not project hears each committed batch."""
    system = quiet_system
    # Reading the tables tells it nothing here: only the announcements can move it.
    follower = Progress([SUBSCRIPTIONS, PAYMENTS], lambda: {SUBSCRIPTIONS: 0, PAYMENTS: 0})
    follower.follow(system.database_url)
    system.start_projections()
    try:
        emp = an_emp(system)
        for n in range(3):
            define_packages(system, emp, [f"P{n}"])
            assert follower.wait_for(head(system), timeout=10), n
    finally:
        follower.stop_following()


def test_writes_wake_the_projections_of_another_process(quiet_system: System) -> None:
    projector = build_system(quiet_system.database_url, pool_size=2, run_migrations=False)
    projector.start_projections()
    try:
        define_packages(quiet_system, an_emp(quiet_system), ["A"])
        assert quiet_system.progress.wait_for(head(quiet_system), timeout=10)
        assert len(packages(quiet_system.database_url)) == 1
    finally:
        projector.close()


def test_rebuilding_from_zero_gives_the_same_read_models(quiet_system: System) -> None:
    system = quiet_system
    emp = an_emp(system)
    system.start_projections()
    ids = register_customers(system, emp, 4)
    for n, customer in enumerate(ids):
        charge(system, emp, customer, f"s-{n}", 100 * n)
    define_packages(system, emp, ["A", "B"])
    assert system.catch_up(timeout=10)
    tables = ["customers", "transactions", "sessions", "emps", "packages"]
    before = {table: rows(system.database_url, f"SELECT * FROM {table} ORDER BY 1, 2") for table in tables}

    system.rebuild()

    assert {
        table: rows(system.database_url, f"SELECT * FROM {table} ORDER BY 1, 2") for table in tables
    } == before
    assert system.catch_up(timeout=10)

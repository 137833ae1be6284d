"""The accounts projection: exactly once, restartable, supervised, rebuilt from zero alike."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import RecordSession, RegisterCustomer, RegisterEmp, StorePaymentCard
from domain.aggregates import PaymentCard
from projections.accounts import AccountsProjection
from projections.progress import Progress
from projections.worker import ProjectionWorker

CARD = PaymentCard("tok_visa", "visa", "4242", 12, 2030)


@pytest.fixture
def quiet_system(fresh_database_url: str) -> Iterator[System]:
    """A system whose projections do not run until a test starts them."""
    built = build_system(fresh_database_url, pool_size=4)
    yield built
    built.close()


def register_customers(system: System, count: int) -> list[Any]:
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
    ids = []
    for n in range(count):
        outcome = handle(
            RegisterCustomer(emp.id, f"Driver {n}", f"d{n}@example.com", "prepaid", None, "test"),
            system.services,
        )
        handle(StorePaymentCard(emp.id, outcome.id, CARD, "test"), system.services)
        ids.append(outcome.id)
    return ids


def read_model(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, name, card_last4, version FROM customers ORDER BY id").fetchall()


def head(system: System) -> int:
    return system.ledger.recorder.max_notification_id() or 0


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_stopped_projection_catches_up_without_loss_or_repeats(quiet_system: System) -> None:
    system = quiet_system
    system.start_projections()
    register_customers(system, 5)
    assert system.progress.wait_for(head(system), timeout=10)
    system.stop_projections()

    register_customers(system, 7)  # written while the projection is down
    assert len(read_model(system.database_url)) == 5

    system.start_projections()
    assert system.progress.wait_for(head(system), timeout=10)

    rows = read_model(system.database_url)
    assert len(rows) == 12
    assert all(last4 == "4242" and version == 2 for _, _, last4, version in rows)
    assert system.read_positions() == {"accounts": head(system), "subscriptions": head(system)}


def test_a_replayed_batch_changes_nothing(quiet_system: System) -> None:
    system = quiet_system
    system.start_projections()
    register_customers(system, 3)
    assert system.progress.wait_for(head(system), timeout=10)
    before = read_model(system.database_url)

    notifications = system.ledger.recorder.select_notifications(start=1, limit=100)
    events = [system.ledger.mapper.to_domain_event(n) for n in notifications]
    with pytest.raises(IntegrityError):
        system.projections[0].process_batch(events, Tracking(system.ledger.name, notifications[-1].id))

    assert read_model(system.database_url) == before


def test_a_failing_projection_is_restarted_and_catches_up(quiet_system: System) -> None:
    system = quiet_system
    register_customers(system, 2)
    failures = {"left": 2}

    class FlakyAccounts(AccountsProjection):
        def apply_events(self, cursor: Any, events: Any) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("database hiccup")
            super().apply_events(cursor, events)

    flaky = FlakyAccounts(view=system.projections[0].view)
    worker = ProjectionWorker(system.ledger, [flaky], system.progress)
    worker.start()
    status = worker.statuses[0]
    try:
        wait_until(lambda: status.position == head(system))
        assert status.restarts == 2
        assert status.last_error is None
        assert len(read_model(system.database_url)) == 2
    finally:
        worker.stop()


def test_writes_wake_a_projection_running_in_another_process(quiet_system: System) -> None:
    """Projections elsewhere: LISTEN/NOTIFY wakes them; the API polls the tracking table."""
    projector = build_system(quiet_system.database_url, pool_size=2, run_migrations=False)
    projector.start_projections()
    try:
        register_customers(quiet_system, 1)
        assert quiet_system.progress.local is False
        assert quiet_system.progress.wait_for(head(quiet_system), timeout=10)
        assert len(read_model(quiet_system.database_url)) == 1
    finally:
        projector.close()


def test_rebuilding_from_zero_gives_the_same_read_model(quiet_system: System) -> None:
    system = quiet_system
    system.start_projections()
    register_customers(system, 4)
    assert system.progress.wait_for(head(system), timeout=10)
    system.stop_projections()
    before = read_model(system.database_url)

    system.rebuild_projections()
    assert read_model(system.database_url) == []
    assert system.progress.positions() == {"accounts": 0, "subscriptions": 0}

    system.start_projections()
    assert system.progress.wait_for(head(system), timeout=10)
    assert read_model(system.database_url) == before


def test_a_worker_with_a_stale_position_applies_nothing(quiet_system: System) -> None:
    """The tracked position moves only from where the worker read it: a second worker that read
    the same stretch of the log (with another batch end) is refused, whole."""
    system = quiet_system
    register_customers(system, 2)
    worker = ProjectionWorker(system.ledger, system.projections, system.progress)
    worker.catch_up()
    before = read_model(system.database_url)
    accounts = system.projections[0]
    notifications = system.ledger.recorder.select_notifications(start=1, limit=100)
    events = [system.ledger.mapper.to_domain_event(n) for n in notifications]
    stale = notifications[-2].id
    with pytest.raises(IntegrityError), accounts.view.datastore.transaction(commit=True) as cursor:
        tracking = Tracking(system.ledger.name, head(system) + 5)
        accounts.apply_batch(cursor, events[-1:], tracking, previous=stale)
    assert read_model(system.database_url) == before
    assert accounts.position(system.ledger.name) == head(system)


def test_two_workers_on_the_same_views_apply_every_event_once(quiet_system: System) -> None:
    """Two processes running the projections by mistake, with different batch sizes: the read
    models end exactly as one worker (a rebuild from zero) leaves them."""
    system = quiet_system
    url = system.database_url
    other = build_system(url, pool_size=2, run_migrations=False)
    # Both woken by every write's NOTIFY, so they race for the same stretches.
    workers = [
        ProjectionWorker(
            built.ledger, built.projections, built.progress, listen_conninfo=url, batch_size=size
        )
        for built, size in ((system, 3), (other, 7))
    ]
    for worker in workers:
        worker.start()
    try:
        register_customers(system, 15)
        wait_until(lambda: all(s.position == head(system) for w in workers for s in w.statuses))
        assert all(s.last_error is None for w in workers for s in w.statuses)
    finally:
        for worker in workers:
            worker.stop()
        other.close()
    raced = read_model(system.database_url)
    system.rebuild_projections()
    ProjectionWorker(system.ledger, system.projections, system.progress).catch_up()
    assert read_model(system.database_url) == raced
    assert len(raced) == 15


def test_another_process_hears_each_batch_the_projections_commit(quiet_system: System) -> None:
    """An API process that does not project waits on the worker's announcements."""
    system = quiet_system
    # Reading the tables tells it nothing here: only the announcements can move it.
    follower = Progress(
        ["accounts", "subscriptions"], lambda: {"accounts": 0, "subscriptions": 0}, local=False
    )
    follower.follow(system.database_url)
    assert follower.listening.wait(10)
    system.start_projections()
    try:
        for n in range(3):
            register_customers(system, 1)
            assert follower.wait_for(head(system), timeout=10), n
            assert follower.positions() == system.read_positions()
    finally:
        follower.stop_following()


def test_a_worker_overtaken_by_another_moves_on_without_applying_twice(quiet_system: System) -> None:
    """The worker keeps its positions in memory: when another process moved a tracking row
    meanwhile, its pipelined batch fails whole and it carries on from the tables' positions."""
    system = quiet_system
    register_customers(system, 1)
    worker = ProjectionWorker(system.ledger, system.projections, system.progress)
    worker.catch_up()
    register_customers(system, 1)
    with psycopg.connect(system.database_url, autocommit=True) as conn:
        # As if another worker had applied the new events (whose rows it would have written).
        for table in ("accounts_tracking", "subscriptions_tracking"):
            conn.execute(f"UPDATE {table} SET notification_id = %s", (head(system),))
    worker.catch_up()
    assert [status.position for status in worker.statuses] == [head(system), head(system)]
    assert len(read_model(system.database_url)) == 1, "the new events were not applied a second time"


def test_sessions_go_as_one_statement_and_a_batch_that_writes_as_it_goes_in_a_transaction(
    quiet_system: System,
) -> None:
    """Sessions and balance movements only buffer rows, so their batch is written as one
    statement; a batch holding a registration (written as it comes) runs in a transaction.
    Either way the read model ends the same."""
    system = quiet_system
    in_transaction: list[int] = []

    class Watched(AccountsProjection):
        def apply_events(self, cursor: Any, events: Any) -> None:
            in_transaction.append(len(events))
            super().apply_events(cursor, events)

    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)

    def postpaid_customer(n: int) -> Any:
        registration = RegisterCustomer(emp.id, f"Driver {n}", f"d{n}@example.com", "postpaid", None, "test")
        return handle(registration, system.services).id

    def charge(customer_id: Any, session_id: str, cost_minor: int) -> None:
        started = datetime(2026, 3, 1, 8, tzinfo=UTC)
        handle(
            RecordSession(emp.id, session_id, customer_id, started, started + timedelta(hours=1), 9000,
                          cost_minor, None, "test"),
            system.services,
        )  # fmt: skip

    first, second = postpaid_customer(1), postpaid_customer(2)
    worker = ProjectionWorker(system.ledger, [Watched(view=system.projections[0].view)], system.progress)
    worker.start()
    try:
        wait_until(lambda: worker.statuses[0].position == head(system))
        assert in_transaction, "registrations are written as they come, in a transaction"

        in_transaction.clear()
        for n in range(3):
            charge(first, f"s-{n}", 100 + n)
            charge(second, f"t-{n}", 200 + n)
        wait_until(lambda: worker.statuses[0].position == head(system))
        assert in_transaction == [], "session batches went as one statement"

        worker.stop()
        third = postpaid_customer(3)
        charge(third, "u-1", 700)
        charge(first, "s-9", 50)
        worker.start()
        wait_until(lambda: worker.statuses[0].position == head(system))
        assert in_transaction == [1 + 2 + 2], "a registration and two sessions: one transaction"
    finally:
        worker.stop()

    with psycopg.connect(system.database_url) as conn:
        balances = dict(conn.execute("SELECT id, balance_minor FROM customers").fetchall())
        movements = dict(conn.execute("SELECT customer_id, count(*) FROM transactions GROUP BY 1").fetchall())
        sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()
    assert balances == {first: -(100 + 101 + 102 + 50), second: -(200 + 201 + 202), third: -700}
    assert movements == {first: 4, second: 3, third: 1}
    assert sessions == (8,)

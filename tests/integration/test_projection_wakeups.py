"""How the projection worker learns of new events: its own process's saves hand them over (the
log is not read back), every save's NOTIFY says how far the log reaches, and writes of other
processes, which only NOTIFY, are read from the log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder

from chargeledger.database import ConnectionParams
from chargeledger.system import System, build_system
from commands.application import Ledger
from commands.handlers import handle
from commands.messages import RegisterCustomer, RegisterEmp
from commands.unit_of_work import Services
from projections.worker import ProjectionWorker


@pytest.fixture
def system(fresh_database_url: str) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=4)
    yield built
    built.close()


def head(system: System) -> int:
    return system.ledger.recorder.max_notification_id() or 0


def customers_in_read_model(url: str) -> set[Any]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM customers")}


def register(system: System | Services, emp_id: Any, name: str) -> None:
    services = system if isinstance(system, Services) else system.services
    handle(RegisterCustomer(emp_id, name, f"{name}@example.com", "postpaid", None, "test"), services)


def test_a_save_s_notify_says_how_far_the_log_reaches(system: System) -> None:
    channel = system.ledger.recorder.channel_name  # type: ignore[attr-defined]
    with psycopg.connect(system.database_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{channel}"')
        handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
        heard = [notify.payload for notify in listener.notifies(timeout=5, stop_after=1)]
    assert heard == [str(head(system))]


def test_the_worker_takes_its_own_saves_without_reading_the_log(system: System) -> None:
    reads = {"count": 0}
    recorder: Any = system.ledger.recorder
    select_notifications = recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads["count"] += 1
        return select_notifications(*args, **kwargs)

    recorder.select_notifications = counted
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
    system.start_projections()
    assert system.progress.wait_for(head(system), timeout=10)
    reads["count"] = 0

    for n in range(20):
        register(system, emp.id, f"own{n}")
        assert system.progress.wait_for(head(system), timeout=10)

    assert len(customers_in_read_model(system.database_url)) == 20
    # Each save's NOTIFY wakes the worker too; it knows the save's events are handed over. (A
    # save whose hand-over is slower than the worker's bounded wait is read from the log.)
    assert reads["count"] < 10


def test_writes_of_another_process_between_own_saves_are_applied(system: System) -> None:
    other = build_system(system.database_url, pool_size=2, run_migrations=False)
    try:
        emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
        system.start_projections()
        names = set()
        for n in range(10):
            register(system, emp.id, f"own{n}")
            register(other, emp.id, f"other{n}")
            names |= {f"own{n}", f"other{n}"}
        # The last write is the other process's: only its NOTIFY tells this worker of it.
        assert system.progress.wait_for(head(system), timeout=10)
        assert customers_in_read_model(system.database_url) == names
    finally:
        other.close()


def test_a_worker_started_on_a_long_log_applies_all_of_it(system: System) -> None:
    """Events written before the worker's process existed are announced by no NOTIFY it heard:
    it reads the log, batch after batch, to its end."""
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
    for n in range(30):
        register(system, emp.id, f"early{n}")
    worker = ProjectionWorker(
        system.ledger, system.projections, system.progress, listen_conninfo=system.database_url, batch_size=7
    )
    worker.start()
    try:
        assert system.progress.wait_for(head(system), timeout=10)
        assert len(customers_in_read_model(system.database_url)) == 30
    finally:
        worker.stop()


def test_a_write_whose_notify_names_no_position_is_read_from_the_log(system: System) -> None:
    """The library's own recorder NOTIFYs without a position (a writer of another version, a
    tool): the worker cannot tell how far the log reaches, so it reads it."""
    emp = handle(RegisterEmp("EMP", "EUR", 1000, 3000, "test"), system.services)
    system.start_projections()
    assert system.progress.wait_for(head(system), timeout=10)
    plain = Ledger(env=ConnectionParams.from_url(system.database_url).eventsourcing_env())
    try:
        assert type(plain.recorder) is PostgresApplicationRecorder
        register(replace(system.services, ledger=plain), emp.id, "by another writer")
        assert system.progress.wait_for(head(system), timeout=10)
        assert customers_in_read_model(system.database_url) == {"by another writer"}
    finally:
        plain.close()

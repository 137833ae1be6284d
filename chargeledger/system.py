"""The composition root: one place that builds the Application, projections and services."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import ConnectionPool

from chargeledger.database import ConnectionParams
from commands.application import Ledger
from commands.payment_worker import PendingPaymentWorker
from commands.ports import Clock, PaymentGateway, SystemClock
from commands.simulated_gateway import SimulatedGateway
from commands.unit_of_work import Services
from migrations import migrate
from projections import queries
from projections.accounts import AccountsProjection
from projections.progress import Progress
from projections.subscriptions import SubscriptionsProjection
from projections.view import ReadModelProjection, ReadModelView
from projections.worker import ProjectionWorker, WorkerStatus

logger = logging.getLogger(__name__)

PROJECTIONS: list[type[ReadModelProjection]] = [AccountsProjection, SubscriptionsProjection]


def tracking_table(projection_class: type[ReadModelProjection]) -> str:
    return f"{projection_class.name}_tracking"


@dataclass
class System:
    database_url: str
    pool: ConnectionPool
    ledger: Ledger
    services: Services
    progress: Progress
    projections: list[ReadModelProjection]
    workers: list[ProjectionWorker] = field(default_factory=list)
    payment_worker: PendingPaymentWorker | None = None

    def __post_init__(self) -> None:
        self.ledger.on_saved(self._wake_workers)

    def _wake_workers(self, position: int) -> None:
        for worker in self.workers:
            worker.wake(position)

    def start_projections(self) -> None:
        """Run every projection in this process (the single-node default)."""
        for projection in self.projections:
            worker = ProjectionWorker(
                self.ledger, projection, self.progress, listen_conninfo=self.database_url
            )
            worker.start()
            self.workers.append(worker)
        self.progress.local = True

    def start_payment_worker(self) -> None:
        """Complete automatic top-ups (and payments left pending by a crash) in this process."""
        worker = PendingPaymentWorker(
            self.services,
            lambda cutoff: queries.pending_card_payments(self.pool, automatic_only_before=cutoff),
        )
        self.progress.on_advance(worker.wake)
        worker.start()
        self.payment_worker = worker

    def stop_payment_worker(self) -> None:
        if self.payment_worker is not None:
            self.payment_worker.stop()
            self.payment_worker = None

    def stop_projections(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []
        self.progress.local = False

    def rebuild_projections(self) -> None:
        """Rebuild every read model from the first event (stops and restarts local workers)."""
        was_running = bool(self.workers)
        self.stop_projections()
        for projection in self.projections:
            projection.rebuild_from_zero(self.ledger.name)
            self.progress.forget(type(projection).name)
        if was_running:
            self.start_projections()

    def projection_statuses(self) -> list[WorkerStatus]:
        if self.workers:
            return [worker.status for worker in self.workers]
        positions = self.read_positions()
        return [WorkerStatus(name, position) for name, position in positions.items()]

    def read_positions(self) -> dict[str, int]:
        tables = {type(p).name: tracking_table(type(p)) for p in self.projections}
        return queries.tracking_positions(self.pool, tables, self.ledger.name)

    def close(self) -> None:
        self.stop_payment_worker()
        self.stop_projections()
        self.ledger.close()
        self.pool.close()


def build_system(
    database_url: str,
    *,
    gateway: PaymentGateway | None = None,
    clock: Clock | None = None,
    pool_size: int = 8,
    run_migrations: bool = True,
) -> System:
    if run_migrations:
        migrate(database_url)
    env: dict[str, Any] = ConnectionParams.from_url(database_url).eventsourcing_env()
    env["CREATE_TABLE"] = "y"
    env["POSTGRES_POOL_SIZE"] = str(pool_size)
    ledger = Ledger(env=env)
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=pool_size,
        open=True,
        timeout=5.0,
        kwargs={
            "autocommit": True,
            "options": "-c lock_timeout=5s -c statement_timeout=30s -c timezone=UTC",
        },
        name="chargeledger",
    )
    datastore: PostgresDatastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    projections: list[ReadModelProjection] = []
    for projection_class in PROJECTIONS:
        view = ReadModelView(datastore, tracking_table_name=tracking_table(projection_class))
        view.create_table()
        projections.append(projection_class(view=view))
    tables = {type(p).name: tracking_table(type(p)) for p in projections}
    progress = Progress(
        list(tables),
        lambda: queries.tracking_positions(pool, tables, ledger.name),
        local=False,
    )
    services = Services(
        ledger=ledger,
        gateway=gateway or SimulatedGateway(pool),
        clock=clock or SystemClock(),
    )
    return System(database_url, pool, ledger, services, progress, projections)

"""The composition root: one place that builds the Application, projections and services."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from apscheduler.schedulers.base import BaseScheduler
from eventsourcing.persistence import Recording
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from chargeledger.database import ConnectionParams
from commands.application import Ledger
from commands.event_chain import HashChainedRecorder
from commands.fail_fast import FailFastAggregateRecorder
from commands.jobs import JobRun, run_job
from commands.mail import MailWorker, SmtpMailer
from commands.payment_worker import PendingPaymentWorker
from commands.ports import Clock, PaymentGateway, SystemClock
from commands.simulated_gateway import SimulatedGateway
from commands.unit_of_work import Services
from domain.aggregates import Customer
from migrations import migrate
from projections import queries
from projections.accounts import AccountsProjection
from projections.billing_queries import PostgresBillingQueries
from projections.mail_outbox import PostgresMailOutbox
from projections.progress import Progress
from projections.subscriptions import SubscriptionsProjection
from projections.view import ReadModelProjection, ReadModelView
from projections.worker import ProjectionWorker, WorkerStatus
from scheduler.leadership import Leadership
from scheduler.schedule import build_scheduler

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
    chain_key: bytes | None = None
    workers: list[ProjectionWorker] = field(default_factory=list)
    payment_worker: PendingPaymentWorker | None = None
    mail_worker: MailWorker | None = None
    scheduler: BaseScheduler | None = None
    leadership: Leadership | None = None

    @property
    def billing_queries(self) -> PostgresBillingQueries:
        return PostgresBillingQueries(self.pool)

    def catch_up(self, timeout: float = 30.0) -> bool:
        """Wait until every projection has applied everything recorded so far."""
        return self.progress.wait_for(self.ledger.recorder.max_notification_id() or 0, timeout)

    def run_job(self, name: str, as_of: datetime, triggered_by: str) -> JobRun:
        """Run a batch job on up-to-date work lists, and return once its effects are readable."""
        self.catch_up()
        run = run_job(name, as_of, self.services, self.billing_queries, self.pool, triggered_by=triggered_by)
        self.catch_up()
        return run

    def start_mail_worker(self, smtp_url: str | None, mail_from: str, **timing: float) -> None:
        if not smtp_url:
            logger.warning("CHARGELEDGER_SMTP_URL is not set: payment-failure mail waits in the outbox")
            return
        worker = MailWorker(
            PostgresMailOutbox(self.pool), SmtpMailer(smtp_url, mail_from), self.services.clock, **timing
        )
        # Mail is queued by the projection of a failed payment: only then is there any to send.
        self.progress.on_applied([Customer.PaymentFailed.TOPIC], worker.wake)
        worker.start()
        self.mail_worker = worker

    def start_scheduler(self, schedules: dict[str, str], *, blocking: bool = False) -> None:
        self.leadership = Leadership(self.database_url)
        self.scheduler = build_scheduler(
            lambda job, as_of: self.run_job(job, as_of, "scheduler"),
            self.leadership,
            self.services.clock,
            schedules,
            blocking=blocking,
        )
        self.scheduler.start()

    def __post_init__(self) -> None:
        self.ledger.watch_saves(self)

    def saving(self) -> None:
        for worker in self.workers:
            worker.expect_save()

    def saved(self, recordings: list[Recording[UUID]]) -> None:
        for worker in self.workers:
            worker.hand_over(recordings)

    def start_projections(self) -> None:
        """Run every projection in this process (the single-node default): one worker reads the
        log once for all of them and applies each batch to every view in one transaction."""
        worker = ProjectionWorker(
            self.ledger, self.projections, self.progress, listen_conninfo=self.database_url
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
        # Only a newly requested card payment gives it work at once; the rest is its poll.
        self.progress.on_applied([Customer.CardPaymentRequested.TOPIC], worker.wake)
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
            return [status for worker in self.workers for status in worker.statuses]
        positions = self.read_positions()
        return [WorkerStatus(name, position) for name, position in positions.items()]

    def read_positions(self) -> dict[str, int]:
        tables = {type(p).name: tracking_table(type(p)) for p in self.projections}
        return queries.tracking_positions(self.pool, tables, self.ledger.name)

    def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.leadership is not None:
            self.leadership.release()
        if self.mail_worker is not None:
            self.mail_worker.stop()
        self.stop_payment_worker()
        self.stop_projections()
        self.progress.stop_following()
        self.ledger.close()
        self.pool.close()


def build_system(
    database_url: str,
    *,
    gateway: PaymentGateway | None = None,
    clock: Clock | None = None,
    pool_size: int = 8,
    run_migrations: bool = True,
    hmac_key: str | None = None,
    aggregate_cache: int = 10_000,
) -> System:
    if run_migrations:
        migrate(database_url)
    env: dict[str, Any] = ConnectionParams.from_url(database_url).eventsourcing_env()
    env["CREATE_TABLE"] = "y"
    env["POSTGRES_POOL_SIZE"] = str(pool_size)
    env["APPLICATION_RECORDER_TOPIC"] = get_topic(HashChainedRecorder)
    # Aggregates stay in memory between commands; each get reads only the newer events
    # (fast-forward), so other processes' writes are seen and a stale copy never saves.
    env["AGGREGATE_CACHE_MAXSIZE"] = str(aggregate_cache)
    env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
    ledger = Ledger(env=env)
    recorder = ledger.recorder
    assert isinstance(recorder, HashChainedRecorder)
    if ledger.snapshots is not None:
        # The library offers no setting for the snapshot recorder's class; it is the same
        # recorder with shorter retries, so the instance can take the subclass as it is.
        ledger.snapshots.recorder.__class__ = FailFastAggregateRecorder
    recorder.chain_key = hmac_key.encode() if hmac_key else None
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
    return System(database_url, pool, ledger, services, progress, projections, chain_key=recorder.chain_key)

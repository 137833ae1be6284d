"""The composition root: one place that builds the Application, read models and services."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from apscheduler.schedulers.base import BaseScheduler
from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from chargeledger.config import StripeSettings
from chargeledger.database import ConnectionParams
from commands.application import Ledger
from commands.data_keys import PostgresDataKeys, master_key
from commands.event_chain import HashChainedRecorder
from commands.fail_fast import FailFastAggregateRecorder
from commands.jobs import JobRun, mark_interrupted_runs, run_job
from commands.mail import MailWorker, SmtpMailer
from commands.payment_worker import PendingPaymentWorker
from commands.ports import Clock, PaymentGateway, SystemClock
from commands.resealing import PostgresErasure
from commands.simulated_gateway import SimulatedGateway
from commands.unit_of_work import Services
from commands.webhook_delivery import WebhookDeliveryWorker
from domain.aggregates import Customer
from migrations import migrate
from projections import queries
from projections.accounts import AccountsProjection
from projections.billing_queries import PostgresBillingQueries
from projections.mail_outbox import PostgresMailOutbox
from projections.payments import PaymentsProjection
from projections.pipeline import (
    AsyncProjection,
    LogListener,
    ProjectionRunner,
    ProjectionStatus,
    recorded_statuses,
)
from projections.progress import Progress
from projections.rebuild import rebuild_inline, reset_async
from projections.subscriptions import SubscriptionsProjection
from projections.webhook_outbox import PostgresWebhookOutbox
from projections.webhooks import WebhooksProjection
from scheduler.leadership import Leadership
from scheduler.schedule import build_scheduler
from scheduler.test_clocks import advance_test_clock

logger = logging.getLogger(__name__)

# The read models that follow the log; the accounts model is written inline, with the events.
SUBSCRIPTIONS = SubscriptionsProjection.name
PAYMENTS = PaymentsProjection.name
WEBHOOKS = WebhooksProjection.name


@dataclass
class System:
    database_url: str
    pool: ConnectionPool
    ledger: Ledger
    services: Services
    progress: Progress
    accounts: AccountsProjection
    projections: list[AsyncProjection]
    chain_key: bytes | None = None
    runners: list[ProjectionRunner] = field(default_factory=list)
    listener: LogListener | None = None
    payment_worker: PendingPaymentWorker | None = None
    mail_worker: MailWorker | None = None
    webhook_worker: WebhookDeliveryWorker | None = None
    scheduler: BaseScheduler | None = None
    leadership: Leadership | None = None

    @property
    def billing_queries(self) -> PostgresBillingQueries:
        return PostgresBillingQueries(self.pool)

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def catch_up(self, timeout: float = 30.0) -> bool:
        """Wait until every asynchronous read model has applied everything recorded so far."""
        return self.progress.wait_for(self.head(), timeout)

    def run_job(self, name: str, as_of: datetime, triggered_by: str, emp_id: UUID | None = None) -> JobRun:
        """Run a batch job (over one EMP, or every EMP on the real clock) on up-to-date work
        lists, and return once its effects are readable."""
        self.catch_up()
        run = run_job(
            name,
            as_of,
            self.services,
            self.billing_queries,
            self.pool,
            triggered_by=triggered_by,
            emp_id=emp_id,
        )
        self.catch_up()
        return run

    def advance_test_clock(
        self, emp_id: UUID, to: datetime, *, run_jobs: bool, actor: str
    ) -> tuple[datetime, list[JobRun]]:
        return advance_test_clock(
            self.services,
            emp_id,
            to,
            run_jobs=run_jobs,
            run_job=lambda job, as_of, emp: self.run_job(job, as_of, actor, emp),
            actor=actor,
        )

    def start_projections(self) -> None:
        """Run every asynchronous projection in this process, each in a runner of its own, all
        woken by one listener on the log's channel."""
        self.runners = [
            ProjectionRunner(projection, self.ledger, self.pool, self.progress, on_applied=self._applied)
            for projection in self.projections
        ]
        channel: str = self.ledger.recorder.channel_name  # type: ignore[attr-defined]
        self.listener = LogListener(self.database_url, channel, self.runners)
        for runner in self.runners:
            runner.start()
        self.listener.start()

    def stop_projections(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        for runner in self.runners:
            runner.stop()
        self.runners = []

    def _applied(self, name: str, topics: set[str]) -> None:
        """Wake the workers whose work lists a batch has just changed."""
        if (
            name == PAYMENTS
            and self.payment_worker is not None
            and Customer.CardPaymentRequested.TOPIC in topics
        ):
            self.payment_worker.wake()
        if name == PAYMENTS and self.mail_worker is not None and Customer.PaymentFailed.TOPIC in topics:
            self.mail_worker.wake()
        if name == WEBHOOKS:
            self.wake_webhooks()

    def wake_webhooks(self) -> None:
        if self.webhook_worker is not None:
            self.webhook_worker.wake()

    def webhook_deliveries(self) -> dict[str, Any]:
        """Deliveries by state (every process's), and whether a worker delivers here."""
        running = None if self.webhook_worker is None else self.webhook_worker.running
        return {"running": running, "deliveries": PostgresWebhookOutbox(self.pool).counts_by_state()}

    def start_webhook_worker(self, *, allow_insecure: bool, **tuning: Any) -> None:
        """Deliver webhook messages from this process."""
        worker = WebhookDeliveryWorker(
            PostgresWebhookOutbox(self.pool), allow_insecure=allow_insecure, **tuning
        )
        worker.start()
        self.webhook_worker = worker

    def start_payment_worker(self) -> None:
        """Complete automatic top-ups (and payments left pending by a crash) in this process."""
        worker = PendingPaymentWorker(
            self.services,
            lambda cutoff: queries.pending_card_payments(self.pool, automatic_only_before=cutoff),
        )
        worker.start()
        self.payment_worker = worker

    def stop_payment_worker(self) -> None:
        if self.payment_worker is not None:
            self.payment_worker.stop()
            self.payment_worker = None

    def start_mail_worker(self, smtp_url: str | None, mail_from: str, **timing: float) -> None:
        if not smtp_url:
            logger.warning("CHARGELEDGER_SMTP_URL is not set: payment-failure mail waits in the outbox")
            return
        worker = MailWorker(
            PostgresMailOutbox(self.pool), SmtpMailer(smtp_url, mail_from), self.services.clock, **timing
        )
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

    def rebuild(self) -> int:
        """Rebuild every read model from the first event (runners here stop and start again);
        return the events read for the inline models."""
        was_running = bool(self.runners)
        self.stop_projections()
        read = rebuild_inline(self.database_url, self.ledger, self.accounts)
        reset_async(self.database_url, self.ledger.name, self.projections)
        for projection in self.projections:
            if projection.rebuilt:
                self.progress.forget(projection.name)
        self.catch_up_projections()
        if was_running:
            self.start_projections()
        return read

    def catch_up_projections(self) -> None:
        """Apply to each asynchronous projection, here and now, what it has not read yet."""
        for projection in self.projections:
            ProjectionRunner(projection, self.ledger, self.pool, self.progress, batch_size=5000).catch_up()

    def projection_statuses(self) -> list[ProjectionStatus]:
        """Each asynchronous projection's position and last error as recorded (any process's);
        whether it runs here, where it does."""
        statuses = recorded_statuses(self.pool, self.ledger.name, self.projections)
        for runner in self.runners:
            statuses[runner.name].running = runner.status.running
            statuses[runner.name].position = max(statuses[runner.name].position, runner.status.position)
        return list(statuses.values())

    def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.leadership is not None:
            self.leadership.release()
        if self.mail_worker is not None:
            self.mail_worker.stop()
        if self.webhook_worker is not None:
            self.webhook_worker.stop()
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
    stripe: StripeSettings | None = None,
) -> System:
    if run_migrations:
        migrate(database_url)
    env: dict[str, Any] = ConnectionParams.from_url(database_url).eventsourcing_env()
    env["CREATE_TABLE"] = "y"
    env["POSTGRES_POOL_SIZE"] = str(pool_size)
    env["APPLICATION_RECORDER_TOPIC"] = get_topic(HashChainedRecorder)
    accounts = AccountsProjection()
    ledger = Ledger(env=env, cache_size=aggregate_cache, inline=accounts)
    recorder = ledger.recorder
    assert isinstance(recorder, HashChainedRecorder)
    if ledger.snapshots is not None:
        # The library offers no setting for the snapshot recorder's class; it is the same
        # recorder with shorter retries, so the instance can take the subclass as it is.
        ledger.snapshots.recorder.__class__ = FailFastAggregateRecorder
    recorder.chain_key = hmac_key.encode() if hmac_key else None
    keys = PostgresDataKeys(recorder.datastore.get_connection, master_key())
    snapshots = ledger.snapshots.recorder if ledger.snapshots is not None else None
    snapshots_table = getattr(snapshots, "events_table_name", None)
    ledger.use_data_keys(
        keys, PostgresErasure(keys, recorder.events_table_name, snapshots_table, recorder.chain_key)
    )
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
    projections: list[AsyncProjection] = [
        SubscriptionsProjection(),
        PaymentsProjection(),
        WebhooksProjection(lambda stream: next(iter(ledger.events.get(stream, lte=1)))),
    ]

    def positions() -> dict[str, int]:
        return {s.name: s.position for s in recorded_statuses(pool, ledger.name, projections).values()}

    progress = Progress([p.name for p in projections], positions)
    if gateway is None and stripe is not None:
        # Imported here: Stripe's SDK costs each process 25 MiB, and most run the simulator.
        from commands.stripe_gateway import StripeGateway

        gateway = StripeGateway(
            pool, secret_key=stripe.secret_key, webhook_secret=stripe.webhook_secret, api_base=stripe.api_base
        )
    services = Services(
        ledger=ledger, gateway=gateway or SimulatedGateway(pool), clock=clock or SystemClock()
    )
    mark_interrupted_runs(pool, services.clock.now())
    return System(
        database_url, pool, ledger, services, progress, accounts, projections, chain_key=recorder.chain_key
    )

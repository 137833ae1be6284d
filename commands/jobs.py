"""The batch jobs by name, run up to an `as_of` instant over one EMP or over every EMP on the
real clock (an EMP on a test clock is billed when its clock moves), each run recorded.

Jobs have catch-up semantics (everything due up to `as_of`, so a missed night is made up)
and are idempotent per item, so a repeated or concurrent run changes nothing twice. Nothing
is billed before it is due: an `as_of` after the present (the EMP's, or the real one) is
refused."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from commands.billing_queries import BillingQueries
from commands.dunning import take_dunning_step
from commands.invoice_production import invoice_completed_periods
from commands.recurring_payment import pay_due_debits
from commands.recurring_prepayment import debit_due_periods
from commands.unit_of_work import Services
from domain.errors import InvalidPeriod

logger = logging.getLogger(__name__)


@dataclass
class JobResult:
    processed: int = 0
    failures: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class Scope:
    """The EMPs a run covers: one (`emp_id`), or every one on the real clock."""

    def __init__(self, services: Services, emp_id: UUID | None = None) -> None:
        self.services = services
        self.emp_id = emp_id

    def __call__(self, pairs: Iterable[tuple[UUID, UUID]]) -> Iterator[tuple[UUID, UUID]]:
        """The (emp_id, id) pairs of the work list in scope, as the work list gives them."""
        for pair in pairs:
            if pair[0] == self.emp_id or (self.emp_id is None and not self.services.on_test_clock(pair[0])):
                yield pair

    def now(self) -> datetime:
        return self.services.clock.now() if self.emp_id is None else self.services.now_for(self.emp_id)


def recurring_prepayment(
    services: Services, queries: BillingQueries, as_of: datetime, actor: str, scope: Scope
) -> JobResult:
    result = JobResult()
    for emp_id, subscription_id in scope(queries.prepaid_subscriptions_with_recurring_packages()):
        try:
            result.processed += debit_due_periods(services, emp_id, subscription_id, as_of, actor)
        except Exception:
            result.failures += 1
            logger.exception("recurring prepayment failed", extra={"subscription_id": str(subscription_id)})
    return result


def recurring_payment(
    services: Services, queries: BillingQueries, as_of: datetime, actor: str, scope: Scope
) -> JobResult:
    result = JobResult(details={"declined": 0, "dunning_steps": 0, "blocked": 0, "dunning_ended": 0})
    counted = {"step": "dunning_steps", "blocked": "blocked", "ended": "dunning_ended"}
    for emp_id, customer_id in scope(queries.customers_to_dun(as_of)):
        try:
            tally = pay_due_debits(services, emp_id, customer_id, as_of, actor)
            # The same run takes dunning's step of the day (listed in its results).
            step = take_dunning_step(services, queries, emp_id, customer_id, as_of, actor)
        except Exception:
            result.failures += 1
            logger.exception("recurring payment failed", extra={"customer_id": str(customer_id)})
            continue
        result.processed += tally.settled + tally.failed
        result.details["declined"] += tally.failed
        if step is not None:
            result.details[counted[step]] += 1
    return result


def invoice_production(
    services: Services, queries: BillingQueries, as_of: datetime, actor: str, scope: Scope
) -> JobResult:
    result = JobResult()
    for emp_id, subscription_id in scope(queries.postpaid_subscriptions()):
        try:
            result.processed += invoice_completed_periods(
                services, queries, emp_id, subscription_id, as_of, actor
            )
        except Exception:
            result.failures += 1
            logger.exception("invoice production failed", extra={"subscription_id": str(subscription_id)})
    return result


JOBS: dict[str, Callable[[Services, BillingQueries, datetime, str, Scope], JobResult]] = {
    "recurring-prepayment": recurring_prepayment,
    "recurring-payment": recurring_payment,
    "invoice-production": invoice_production,
}


@dataclass(frozen=True)
class JobRun:
    id: uuid.UUID
    job: str
    as_of: datetime
    started_at: datetime
    finished_at: datetime
    processed: int
    failures: int
    details: dict[str, Any]
    emp_id: uuid.UUID | None = None


# The first key of the advisory locks that job runners hold (the second: a hash of the runner id).
RUN_LOCKS = 7_140_017


class RunnerLock:
    """This process as a runner of jobs: a session advisory lock, on a connection of its own,
    held as long as the process lives. Its runs name it; a run whose runner holds no lock any
    more was left by a process that died."""

    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self._connections: dict[str, psycopg.Connection[Any]] = {}
        self._mutex = threading.Lock()

    def hold(self, conninfo: str) -> uuid.UUID:
        with self._mutex:
            conn = self._connections.get(conninfo)
            if conn is None or conn.closed:
                conn = psycopg.connect(conninfo, autocommit=True)
                conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (RUN_LOCKS, str(self.id)))
                self._connections[conninfo] = conn
        return self.id


RUNNER = RunnerLock()


def mark_interrupted_runs(pool: ConnectionPool, now: datetime) -> int:
    """Mark `interrupted` the runs still `running` whose process died: no session holds their
    runner's lock (a live process does, so its runs are left alone). Returns how many."""
    with pool.connection() as conn:
        rows = conn.execute(
            "WITH running AS MATERIALIZED (SELECT id, runner FROM job_runs WHERE status = 'running')"
            " UPDATE job_runs SET status = 'interrupted', finished_at = %s FROM running"
            " WHERE job_runs.id = running.id AND (running.runner IS NULL"
            " OR pg_try_advisory_xact_lock(%s, hashtext(running.runner::text)))"
            " RETURNING job_runs.id, job_runs.job",
            (now, RUN_LOCKS),
        ).fetchall()
    for run_id, job in rows:
        logger.warning(
            "job run interrupted: its process stopped mid-way", extra={"run_id": str(run_id), "job": job}
        )
    return len(rows)


def run_job(
    name: str,
    as_of: datetime,
    services: Services,
    queries: BillingQueries,
    pool: ConnectionPool,
    *,
    triggered_by: str,
    emp_id: uuid.UUID | None = None,
) -> JobRun:
    """Run one job and record the run (job, as_of, started, finished, counts, failures)."""
    scope = Scope(services, emp_id)
    if emp_id is not None:
        services.ledger.get_emp(emp_id)  # not-found for an unknown EMP
    now = scope.now()
    if as_of > now:
        raise InvalidPeriod(
            f"as_of: {as_of.isoformat()} is after the present ({now.isoformat()}): nothing is billed"
            " before it is due; move an EMP's test clock to bill ahead",
            field="as_of",
        )
    run_id = uuid.uuid4()
    started = services.clock.now()
    runner = RUNNER.hold(pool.conninfo if isinstance(pool.conninfo, str) else pool.conninfo())
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO job_runs (id, job, as_of, started_at, triggered_by, status, emp_id, runner)"
            " VALUES (%s, %s, %s, %s, %s, 'running', %s, %s)",
            (run_id, name, as_of, started, triggered_by, emp_id, runner),
        )
    actor = f"job:{name}:{run_id}"
    try:
        result = JOBS[name](services, queries, as_of, actor, scope)
    except BaseException:
        with pool.connection() as conn:
            conn.execute(
                "UPDATE job_runs SET status = 'failed', finished_at = %s WHERE id = %s",
                (services.clock.now(), run_id),
            )
        raise
    finished = services.clock.now()
    with pool.connection() as conn:
        conn.execute(
            "UPDATE job_runs SET status = 'finished', finished_at = %s, processed = %s, failures = %s,"
            " details = %s WHERE id = %s",
            (finished, result.processed, result.failures, Jsonb(result.details), run_id),
        )
    logger.info(
        "job run finished",
        extra={
            "job": name,
            "as_of": as_of.isoformat(),
            "processed": result.processed,
            "failures": result.failures,
        },
    )
    return JobRun(
        run_id, name, as_of, started, finished, result.processed, result.failures, result.details, emp_id
    )

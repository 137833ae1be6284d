"""The batch jobs by name, run over every EMP up to an `as_of` instant, each run recorded.

Jobs have catch-up semantics (everything due up to `as_of`, so a missed night is made up)
and are idempotent per item, so a repeated or concurrent run changes nothing twice."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from commands.billing_queries import BillingQueries
from commands.invoice_production import invoice_completed_periods
from commands.recurring_payment import pay_due_debits
from commands.recurring_prepayment import debit_due_periods
from commands.unit_of_work import Services

logger = logging.getLogger(__name__)


@dataclass
class JobResult:
    processed: int = 0
    failures: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def recurring_prepayment(
    services: Services, queries: BillingQueries, as_of: datetime, actor: str
) -> JobResult:
    result = JobResult()
    for emp_id, subscription_id in queries.prepaid_subscriptions_with_recurring_packages():
        try:
            result.processed += debit_due_periods(services, emp_id, subscription_id, as_of, actor)
        except Exception:
            result.failures += 1
            logger.exception("recurring prepayment failed", extra={"subscription_id": str(subscription_id)})
    return result


def recurring_payment(services: Services, queries: BillingQueries, as_of: datetime, actor: str) -> JobResult:
    result = JobResult(details={"declined": 0})
    for emp_id, customer_id in queries.customers_with_unpaid_debits(as_of):
        try:
            tally = pay_due_debits(services, emp_id, customer_id, as_of, actor)
        except Exception:
            result.failures += 1
            logger.exception("recurring payment failed", extra={"customer_id": str(customer_id)})
            continue
        result.processed += tally.settled + tally.failed
        result.details["declined"] += tally.failed
    return result


def invoice_production(services: Services, queries: BillingQueries, as_of: datetime, actor: str) -> JobResult:
    result = JobResult()
    for emp_id, subscription_id in queries.postpaid_subscriptions():
        try:
            result.processed += invoice_completed_periods(
                services, queries, emp_id, subscription_id, as_of, actor
            )
        except Exception:
            result.failures += 1
            logger.exception("invoice production failed", extra={"subscription_id": str(subscription_id)})
    return result


JOBS: dict[str, Callable[[Services, BillingQueries, datetime, str], JobResult]] = {
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


def run_job(
    name: str,
    as_of: datetime,
    services: Services,
    queries: BillingQueries,
    pool: ConnectionPool,
    *,
    triggered_by: str,
) -> JobRun:
    """Run one job and record the run (job, as_of, started, finished, counts, failures)."""
    run_id = uuid.uuid4()
    started = services.clock.now()
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO job_runs (id, job, as_of, started_at, triggered_by, status)"
            " VALUES (%s, %s, %s, %s, %s, 'running')",
            (run_id, name, as_of, started, triggered_by),
        )
    actor = f"job:{name}:{run_id}"
    try:
        result = JOBS[name](services, queries, as_of, actor)
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
    return JobRun(run_id, name, as_of, started, finished, result.processed, result.failures, result.details)

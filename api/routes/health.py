"""Liveness with substance: 200 only when the database answers; each asynchronous read
model's position, lag and last error are shown, and a failing one makes the status
"degraded" (still 200: the ledger records and answers). And the Prometheus metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.context import ApiContext
from api.problems import problem_response, problem_specs
from projections.figures import Figures, read_figures
from projections.pipeline import ProjectionStatus

logger = logging.getLogger(__name__)
# prometheus_client's CONTENT_TYPE_LATEST without its charset: the response adds one to text/*.
EXPOSITION = "text/plain; version=0.0.4"


def log_head(ctx: ApiContext) -> int:
    with ctx.pool.connection(timeout=2.0) as conn:
        row = conn.execute("SELECT max(notification_id) FROM ledger_events").fetchone()
    return (row[0] if row else None) or 0


class ProjectionMetrics(Collector):
    """The asynchronous read models and the webhook deliveries as /health shows them, read when
    scraped."""

    def __init__(self, head: int, statuses: list[ProjectionStatus], deliveries: dict[str, int]) -> None:
        self.head = head
        self.statuses = statuses
        self.deliveries = deliveries

    def collect(self) -> Iterator[Metric]:
        log = GaugeMetricFamily("chargeledger_log_position", "Notification id of the log's last event")
        log.add_metric([], self.head)
        yield log
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
            "position": GaugeMetricFamily(
                "chargeledger_projection_position", "Last log position applied", labels=["projection"]
            ),
            "lag": GaugeMetricFamily(
                "chargeledger_projection_lag_events", "Log positions not applied yet", labels=["projection"]
            ),
            "failing": GaugeMetricFamily(
                "chargeledger_projection_failing",
                "1 while the projection fails on an event",
                labels=["projection"],
            ),
            "restarts": CounterMetricFamily(
                "chargeledger_projection_restarts", "Restarts after a failure", labels=["projection"]
            ),
        }
        for status in self.statuses:
            families["position"].add_metric([status.name], status.position)
            families["lag"].add_metric([status.name], max(self.head - status.position, 0))
            families["failing"].add_metric([status.name], 1 if status.last_error else 0)
            families["restarts"].add_metric([status.name], status.restarts)
        yield from families.values()
        messages = GaugeMetricFamily(
            "chargeledger_webhook_messages", "Webhook deliveries waiting or failed", labels=["state"]
        )
        for state in ("pending", "failed"):
            messages.add_metric([state], self.deliveries.get(state, 0))
        yield messages


class BusinessMetrics(Collector):
    """Sessions, card payments (top-ups and payments) by outcome, invoices, debits, outbox
    depths and job runs by result, as the read models hold them."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        sessions = GaugeMetricFamily("chargeledger_sessions", "Charging sessions recorded")
        sessions.add_metric([], figures.sessions)
        yield sessions
        payments = GaugeMetricFamily(
            "chargeledger_card_payments",
            "Card payments (manual and automatic top-ups, payments) by purpose and outcome",
            labels=["purpose", "status"],
        )
        for (purpose, status), count in sorted(figures.card_payments.items()):
            payments.add_metric([purpose, status], count)
        yield payments
        invoices = GaugeMetricFamily("chargeledger_invoices", "Invoices issued", labels=["currency"])
        invoiced = GaugeMetricFamily(
            "chargeledger_invoiced_minor", "Invoice totals in minor units", labels=["currency"]
        )
        for currency, (count, total) in sorted(figures.invoices.items()):
            invoices.add_metric([currency], count)
            invoiced.add_metric([currency], total)
        yield from (invoices, invoiced)
        debits = GaugeMetricFamily("chargeledger_debits", "Recurring debits by status", labels=["status"])
        for status, count in sorted(figures.debits.items()):
            debits.add_metric([status], count)
        yield debits
        outboxes = GaugeMetricFamily(
            "chargeledger_outbox_depth", "Items waiting to be sent or completed", labels=["outbox"]
        )
        for outbox, count in sorted(figures.outboxes.items()):
            outboxes.add_metric([outbox], count)
        yield outboxes
        runs = GaugeMetricFamily(
            "chargeledger_job_runs", "Batch job runs by result", labels=["job", "status"]
        )
        for (job, status), count in sorted(figures.job_runs.items()):
            runs.add_metric([job, status], count)
        yield runs


@get("/health", sync_to_thread=True, tags=["operations"], responses=problem_specs(503))
def health(ctx: NamedDependency[ApiContext]) -> Response[dict[str, Any]]:
    try:
        head = log_head(ctx)
    except Exception as error:
        return problem_response(
            503,
            "service-unavailable",
            "The database is unavailable",
            f"database check failed: {error}",
        )
    statuses = ctx.projection_statuses()
    projections = {
        status.name: {
            "position": status.position,
            "lag": max(head - status.position, 0),
            "running": status.running,
            "restarts": status.restarts,
            "last_error": status.last_error,
            "failing_since": status.failed_at,
        }
        for status in statuses
    }
    degraded = any(status.last_error is not None or status.running is False for status in statuses)
    return Response(
        {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "log_position": head,
            "projections": projections,
            "webhooks": ctx.webhook_deliveries(),
        }
    )


@get(
    "/metrics",
    sync_to_thread=True,
    tags=["operations"],
    responses={
        200: ResponseSpec(
            str, description="Prometheus text exposition", media_type="text/plain", generate_examples=False
        )
    },
)
def metrics(ctx: NamedDependency[ApiContext]) -> Response[bytes]:
    # Litestar's PrometheusController documents this text as JSON.
    text = generate_latest(REGISTRY)
    try:
        projections = CollectorRegistry()
        deliveries = ctx.webhook_deliveries()["deliveries"]
        projections.register(ProjectionMetrics(log_head(ctx), ctx.projection_statuses(), deliveries))
        projections.register(BusinessMetrics(read_figures(ctx.pool)))
        text += generate_latest(projections)
    except Exception as error:  # the process's own metrics still answer in an outage
        logger.warning("projection metrics not read", extra={"error": str(error)})
    return Response(text, media_type=EXPOSITION)


ROUTES = [health, metrics]

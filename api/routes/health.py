"""Liveness with substance: 200 only when the database answers; projection lag is shown.
And the Prometheus metrics, documented as the text they are."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.context import ApiContext
from api.problems import problem_response, problem_specs


@get("/health", sync_to_thread=True, tags=["operations"], responses=problem_specs(503))
def health(ctx: NamedDependency[ApiContext]) -> Response[dict[str, Any]]:
    try:
        with ctx.pool.connection(timeout=2.0) as conn:
            conn.execute("SELECT 1")
            row = conn.execute("SELECT max(notification_id) FROM ledger_events").fetchone()
    except Exception as error:
        return problem_response(
            503,
            "service-unavailable",
            "The database is unavailable",
            f"database check failed: {error}",
        )
    head = (row[0] if row else None) or 0
    projections = {
        status.name: {
            "position": status.position,
            "lag": max(head - status.position, 0),
            "running": status.running,
            "restarts": status.restarts,
            "last_error": status.last_error,
        }
        for status in ctx.projection_statuses()
    }
    return Response({"status": "ok", "database": "ok", "log_position": head, "projections": projections})


@get(
    "/metrics",
    sync_to_thread=False,
    tags=["operations"],
    responses={
        200: ResponseSpec(
            str, description="Prometheus text exposition", media_type="text/plain", generate_examples=False
        )
    },
)
def metrics() -> Response[bytes]:
    # Litestar's PrometheusController documents this text as JSON.
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


ROUTES = [health, metrics]

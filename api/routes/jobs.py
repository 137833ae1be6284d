"""Batch jobs run by hand (admin key): synchronous, catch-up, idempotent; and their history."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import admin_only
from api.context import ApiContext
from api.pagination import Limit, cursor_after, decode_cursor, identifier, instant
from api.problems import problems
from api.schemas import IdempotencyKey, JobName, JobRunIn, JobRunOut, JobRunPage
from projections import queries


@post(
    "/v1/jobs/{job:str}/runs",
    guards=[admin_only],
    sync_to_thread=True,
    status_code=200,
    tags=["jobs"],
    responses=problems(404, 409, 413, 422),
)
def run_job(
    job: FromPath[JobName],
    data: JSONBody[JobRunIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> JobRunOut:
    run = ctx.run_job(job, data.as_of, request.user.actor, data.emp_id)
    return JobRunOut(
        job=run.job,
        as_of=run.as_of,
        processed=run.processed,
        failures=run.failures,
        run_id=str(run.id),
        started_at=run.started_at,
        finished_at=run.finished_at,
        details=run.details,
        triggered_by=request.user.actor,
        emp_id=None if run.emp_id is None else str(run.emp_id),
    )


@get("/v1/jobs/runs", guards=[admin_only], sync_to_thread=True, tags=["jobs"], responses=problems())
def list_job_runs(
    ctx: NamedDependency[ApiContext], limit: Limit = 50, cursor: FromQuery[str | None] = None
) -> JobRunPage:
    before = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = queries.job_runs_page(ctx.pool, limit=limit + 1, before=before)  # type: ignore[arg-type]
    items = [JobRunOut.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "started_at", "id")
    return JobRunPage(items=items, next_cursor=next_cursor)


ROUTES = [run_job, list_job_runs]

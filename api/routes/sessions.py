"""Charging sessions: every one recorded, once per session_id; one at a time or in bulk."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody

from api.auth import emp_only, readers
from api.context import ApiContext
from api.instants import FromInstant, ToInstant, parse_instant
from api.keys import Principal
from api.pagination import Limit, cursor_after, decode_cursor, instant, text
from api.problems import ApiProblem, ProblemDetails, domain_problem, problems
from api.schemas import (
    MAX_BATCH_SESSIONS,
    IdempotencyKey,
    SessionBatchIn,
    SessionBatchOut,
    SessionIn,
    SessionListItem,
    SessionOut,
    SessionPage,
    SessionResultOut,
)
from api.strict_body import strictly
from commands.messages import RecordSession
from commands.unit_of_work import SessionRecorded
from domain.errors import DomainError, InvalidPeriod, NotFound
from projections import queries


def session_command(data: SessionIn, principal: Principal) -> RecordSession:
    assert principal.emp_id is not None  # an emp key's
    return RecordSession(
        emp_id=principal.emp_id,
        session_id=data.session_id,
        customer_id=data.customer_id,
        started_at=data.started_at,
        ended_at=data.ended_at,
        energy_wh=data.energy_wh,
        cost_minor=data.cost_minor,
        location=data.location,
        actor=principal.actor,
    )


@post(
    "/v1/sessions",
    guards=[emp_only],
    tags=["sessions"],
    responses={
        **problems(404, 409, 413, 422),
        200: ResponseSpec(SessionOut, description="the same session again: recorded once, charged once"),
    },
)
async def record_session(
    data: JSONBody[SessionIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> Response[SessionOut]:
    # On the event loop: a session holds no thread while its batch is recorded.
    answer = await ctx.record_session(session_command(data, request.user))
    if isinstance(answer, DomainError):
        raise answer
    body = SessionOut(data.session_id, str(answer.id), data.cost_minor, answer.balance_minor)
    return Response(body, status_code=201 if answer.created else 200)


@post(
    "/v1/sessions/batch",
    guards=[emp_only],
    status_code=200,
    tags=["sessions"],
    responses=problems(409, 413),
)
async def record_session_batch(
    data: JSONBody[SessionBatchIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> SessionBatchOut:
    """Up to 1000 sessions (history imports, a CPO's CDR file), recorded in as few transactions
    as they allow. Each result, in request order, is what posting that session alone to
    POST /v1/sessions would have answered: 201 or 200 with the balance, or its problem."""
    if len(data.sessions) > MAX_BATCH_SESSIONS:
        raise ApiProblem(
            413,
            "payload-too-large",
            "Too many sessions",
            f"a batch holds at most {MAX_BATCH_SESSIONS} sessions; this one has {len(data.sessions)}",
        )
    results: list[SessionResultOut | None] = [None] * len(data.sessions)
    commands: list[RecordSession] = []
    positions: list[int] = []
    for n, item in enumerate(data.sessions):
        try:
            commands.append(session_command(strictly(item, SessionIn), request.user))
            positions.append(n)
        except DomainError as refused:
            results[n] = _refused(_session_id_of(item), refused)
    answers = await ctx.record_sessions(commands) if commands else []
    for n, cmd, answer in zip(positions, commands, answers, strict=True):
        if isinstance(answer, SessionRecorded):
            results[n] = SessionResultOut(
                cmd.session_id, 201 if answer.created else 200, answer.balance_minor
            )
        else:
            results[n] = _refused(cmd.session_id, answer)
    return SessionBatchOut([result for result in results if result is not None])


def _refused(session_id: str | None, error: DomainError) -> SessionResultOut:
    return SessionResultOut(
        session_id, error.status, problem=msgspec.convert(domain_problem(error), ProblemDetails)
    )


def _session_id_of(item: Any) -> str | None:
    session_id = item.get("session_id") if isinstance(item, dict) else None
    return session_id if isinstance(session_id, str) else None


@get("/v1/sessions", guards=[readers], sync_to_thread=True, tags=["sessions"], responses=problems(404, 422))
def list_sessions(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    customer_id: FromQuery[UUID | None] = None,
    from_: FromInstant = None,
    to: ToInstant = None,
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> SessionPage:
    """The EMP's sessions in the order they ended, those of one customer with `customer_id`,
    those that ended from `from` (inclusive) to `to` (exclusive)."""
    emp_id = request.user.emp_id
    since, until = parse_instant(from_, "from"), parse_instant(to, "to")
    if since is not None and until is not None and until < since:
        raise InvalidPeriod("to is before from", field="to")
    if customer_id is not None and queries.customer(ctx.pool, emp_id, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    after = tuple(decode_cursor(cursor, instant, text)) if cursor else None
    rows = queries.sessions_page(
        ctx.pool,
        emp_id,
        limit=limit + 1,
        after=after,  # type: ignore[arg-type]
        customer_id=customer_id,
        since=since,
        until=until,
    )
    items = [SessionListItem.from_row(row) for row in rows[:limit]]
    next_cursor = cursor_after(rows, limit, "ended_at", "session_id")
    return SessionPage(items=items, next_cursor=next_cursor)


ROUTES = [record_session, record_session_batch, list_sessions]

"""Charging sessions: every one recorded, once per session_id."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from api.auth import emp_only
from api.context import ApiContext
from api.problems import problems
from api.schemas import IdempotencyKey, SessionIn, SessionOut
from commands.messages import RecordSession


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
    principal = request.user
    # On the event loop: a session holds no thread while its batch is saved and read models move.
    outcome = await ctx.record_session(
        RecordSession(
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
    )
    body = SessionOut(
        session_id=data.session_id,
        customer_id=str(outcome.id),
        cost_minor=data.cost_minor,
        balance_minor=outcome.extra["balance_minor"],
    )
    return Response(body, status_code=201 if outcome.created else 200)


ROUTES = [record_session]

"""Charging sessions: every one recorded, once per session_id."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import emp_only
from api.context import ApiContext
from api.schemas import SessionIn, SessionOut
from commands.messages import RecordSession


@post("/v1/sessions", guards=[emp_only], sync_to_thread=True, tags=["sessions"])
def record_session(
    data: JSONBody[SessionIn], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> Response[SessionOut]:
    principal = request.user
    outcome = ctx.execute(
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

"""Streamed exports of an EMP's sessions and transactions (seed 000: "exports or APIs")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from api.auth import readers
from api.context import ApiContext
from api.instants import parse_instant
from domain.errors import InvalidPeriod
from projections.exports import export

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
FromInstant = Annotated[str | None, QueryParameter(query="from", description="RFC 3339 instant, inclusive")]


def _stream(
    kind: str, request: Request[Any, Any, Any], ctx: ApiContext, start: str | None, end: str | None, fmt: str
) -> Stream:
    since = parse_instant(start, "from") or BEGINNING
    until = parse_instant(end, "to") or datetime.now(UTC)
    if until < since:
        raise InvalidPeriod("to is before from", field="to")
    chunks, media_type = export(ctx.pool, kind, request.user.emp_id, since, until, fmt)
    extension = "csv" if fmt == "csv" else "ndjson"
    return Stream(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{kind}.{extension}"'},
    )


@get("/v1/exports/sessions", guards=[readers], sync_to_thread=True, tags=["exports"])
def export_sessions(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    from_: FromInstant = None,
    to: FromQuery[str | None] = None,
    format: FromQuery[Literal["csv", "ndjson"]] = "csv",
) -> Stream:
    """Sessions that ended in [from, to), oldest first."""
    return _stream("sessions", request, ctx, from_, to, format)


@get("/v1/exports/transactions", guards=[readers], sync_to_thread=True, tags=["exports"])
def export_transactions(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    from_: FromInstant = None,
    to: FromQuery[str | None] = None,
    format: FromQuery[Literal["csv", "ndjson"]] = "csv",
) -> Stream:
    """Balance movements recorded in [from, to), in recording order."""
    return _stream("transactions", request, ctx, from_, to, format)


ROUTES = [export_sessions, export_transactions]

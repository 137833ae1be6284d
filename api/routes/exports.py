"""Streamed exports of an EMP's sessions and transactions (seed 000: "exports or APIs")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, Schema
from litestar.params import FromQuery
from litestar.response import Stream

from api.auth import readers
from api.context import ApiContext
from api.instants import FromInstant, ToInstant, parse_instant
from api.problems import problems
from domain.errors import InvalidPeriod
from projections.exports import export

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class ExportOperation(Operation):
    """One ResponseSpec names one media type; an export answers CSV or, on request, NDJSON."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if ok is not None and not isinstance(ok, Reference) and ok.content is not None:
            ok.content["application/x-ndjson"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))


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


EXPORT_RESPONSES = {
    **problems(422),
    200: ResponseSpec(
        str, description="CSV, or NDJSON with format=ndjson", media_type="text/csv", generate_examples=False
    ),
}


@get(
    "/v1/exports/sessions",
    guards=[readers],
    sync_to_thread=True,
    tags=["exports"],
    operation_class=ExportOperation,
    responses=EXPORT_RESPONSES,
)
def export_sessions(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    from_: FromInstant = None,
    to: ToInstant = None,
    format: FromQuery[Literal["csv", "ndjson"]] = "csv",
) -> Stream:
    """Sessions that ended in [from, to), oldest first."""
    return _stream("sessions", request, ctx, from_, to, format)


@get(
    "/v1/exports/transactions",
    guards=[readers],
    sync_to_thread=True,
    tags=["exports"],
    operation_class=ExportOperation,
    responses=EXPORT_RESPONSES,
)
def export_transactions(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    from_: FromInstant = None,
    to: ToInstant = None,
    format: FromQuery[Literal["csv", "ndjson"]] = "csv",
) -> Stream:
    """Balance movements recorded in [from, to), in recording order."""
    return _stream("transactions", request, ctx, from_, to, format)


ROUTES = [export_sessions, export_transactions]

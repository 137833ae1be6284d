"""For support and auditors: full histories, the balance at an instant and why, corrections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import readers, support_or_emp
from api.context import ApiContext
from api.instants import parse_instant
from api.pagination import Limit, decode_cursor, encode_cursor, position
from api.problems import problems
from api.routes.customers import customer_out
from api.routes.subscriptions import subscription_out
from api.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    BalanceOut,
    EventOut,
    EventPage,
    ExplanationLineOut,
    ExplanationOut,
    IdempotencyKey,
)
from commands.messages import RecordAdjustment
from commands.unit_of_work import BalanceChanged
from domain.explanation import event_data, explain
from projections import queries

AtInstant = Annotated[
    str | None,
    QueryParameter(
        description="RFC 3339 recording instant: as the ledger knew it then; default: now",
        schema_extra={"format": OpenAPIFormat.DATE_TIME},
    ),
]
AsOfInstant = Annotated[
    str | None,
    QueryParameter(
        description="RFC 3339 business instant: what had happened by then (a session's end, a payment);"
        " later than the EMP's now: as of now",
        schema_extra={"format": OpenAPIFormat.DATE_TIME},
    ),
]


def business_instant(ctx: ApiContext, emp_id: UUID, as_of: str | None) -> datetime | None:
    """`as_of` parsed, no later than the EMP's now (its test clock, else the real clock)."""
    instant = parse_instant(as_of, "as_of")
    return None if instant is None else min(instant, ctx.services.now_for(emp_id))


def event_page(ctx: ApiContext, stream_id: UUID, limit: int, cursor: str | None) -> EventPage:
    after = decode_cursor(cursor, position)[0] if cursor else 0
    events: list[Any] = list(ctx.services.ledger.events.get(stream_id, gt=after, limit=limit + 1))
    items = [
        EventOut(e.originator_version, type(e).__name__, e.timestamp, event_data(e)) for e in events[:limit]
    ]
    next_cursor = encode_cursor(str(events[limit - 1].originator_version)) if len(events) > limit else None
    return EventPage(items=items, next_cursor=next_cursor)


@get(
    "/v1/customers/{customer_id:uuid}/events",
    guards=[readers],
    sync_to_thread=True,
    tags=["ledger"],
    responses=problems(404),
)
def customer_events(
    customer_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> EventPage:
    customer_out(ctx, request.user.emp_id, customer_id)
    return event_page(ctx, customer_id, limit, cursor)


@get(
    "/v1/subscriptions/{subscription_id:uuid}/events",
    guards=[readers],
    sync_to_thread=True,
    tags=["ledger"],
    responses=problems(404),
)
def subscription_events(
    subscription_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> EventPage:
    subscription_out(ctx, request.user.emp_id, subscription_id)
    return event_page(ctx, subscription_id, limit, cursor)


@get(
    "/v1/customers/{customer_id:uuid}/balance",
    guards=[readers],
    sync_to_thread=True,
    tags=["ledger"],
    responses=problems(404),
)
def get_balance(
    customer_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    at: AtInstant = None,
    as_of: AsOfInstant = None,
) -> BalanceOut:
    """The balance now; as the ledger had recorded it at the instant `at`; or, with `as_of`,
    of everything that had happened by that business instant (as known now, or at `at`)."""
    customer = customer_out(ctx, request.user.emp_id, customer_id)
    recorded_by = parse_instant(at, "at")
    happened_by = business_instant(ctx, request.user.emp_id, as_of)
    if happened_by is not None:
        balance = queries.balance_happened_by(ctx.pool, customer_id, happened_by, recorded_by)
        return BalanceOut(balance, customer.currency, happened_by)
    if recorded_by is None:
        return BalanceOut(customer.balance_minor, customer.currency, datetime.now(UTC))
    return BalanceOut(queries.balance_at(ctx.pool, customer_id, recorded_by), customer.currency, recorded_by)


@get(
    "/v1/customers/{customer_id:uuid}/balance/explain",
    guards=[readers],
    sync_to_thread=True,
    tags=["ledger"],
    responses=problems(404),
)
def explain_balance(
    customer_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    at: AtInstant = None,
    as_of: AsOfInstant = None,
) -> ExplanationOut:
    """Every event that moved the balance, with its cause; with `as_of`, those that had happened
    by that business instant, in business-time order."""
    customer = customer_out(ctx, request.user.emp_id, customer_id)
    recorded_by = parse_instant(at, "at")
    happened_by = business_instant(ctx, request.user.emp_id, as_of)
    explanation = explain(ctx.services.ledger.events.get(customer_id), recorded_by, happened_by)
    lines = [ExplanationLineOut(**line.__dict__) for line in explanation.lines]
    answered = happened_by or recorded_by or datetime.now(UTC)
    return ExplanationOut(explanation.balance_minor, customer.currency, answered, lines)


@post(
    "/v1/customers/{customer_id:uuid}/adjustments",
    guards=[support_or_emp],
    sync_to_thread=True,
    status_code=201,
    tags=["ledger"],
    responses=problems(404, 409, 413),
)
def record_adjustment(
    customer_id: FromPath[UUID],
    data: JSONBody[AdjustmentIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> AdjustmentOut:
    principal = request.user
    outcome = ctx.execute(
        RecordAdjustment(
            emp_id=principal.emp_id,
            customer_id=customer_id,
            amount_minor=data.amount_minor,
            reason=data.reason,
            actor=principal.actor,
            request_key=idempotency_key,
        ),
        BalanceChanged,
    )
    return AdjustmentOut(
        id=str(outcome.id),
        customer_id=str(customer_id),
        amount_minor=data.amount_minor,
        reason=data.reason.strip(),
        balance_minor=outcome.balance_minor,
        sequence=outcome.sequence,
        recorded_by=principal.actor,
    )


ROUTES = [customer_events, subscription_events, get_balance, explain_balance, record_adjustment]

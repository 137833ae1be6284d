"""Webhook endpoints of the key's EMP, their deliveries, and the event feed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import emp_only, readers
from api.context import ApiContext
from api.pagination import Limit, cursor_after, decode_cursor, encode_cursor, identifier, instant, position
from api.problems import problems
from api.schemas import (
    FeedEventOut,
    FeedPage,
    IdempotencyKey,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointPage,
    WebhookEndpointPatch,
    WebhookMessageOut,
    WebhookMessagePage,
    WebhookSecretOut,
)
from commands.outbound import check_url
from commands.webhook_signing import new_secret
from domain.errors import NotFound, ValidationFailed
from projections import webhook_endpoints as endpoints
from projections.webhooks import EVENT_TYPES

BASE = "/v1/webhook-endpoints"


def checked_types(types: Sequence[str] | None, field: str = "event_types") -> list[str] | None:
    """Known types, each once, in the order given; None (every type) stays None."""
    if types is None:
        return None
    unknown = [kind for kind in types if kind not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"{field}: unknown event type {unknown[0]!r}", field=field)
    if not types:
        raise ValidationFailed(f"{field}: name at least one event type, or leave it out for all", field=field)
    return list(dict.fromkeys(types))


def endpoint_row(ctx: ApiContext, emp_id: UUID, endpoint_id: UUID) -> dict[str, Any]:
    row = endpoints.find(ctx.pool, emp_id, endpoint_id)
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return row


@post(
    BASE,
    guards=[emp_only],
    sync_to_thread=True,
    status_code=201,
    tags=["webhooks"],
    responses=problems(409, 413),
)
def create_endpoint(
    data: JSONBody[WebhookEndpointIn],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> WebhookEndpointCreated:
    """The secret that signs every delivery is answered here, and on rotation only."""
    check_url(data.url, allow_insecure=ctx.allow_insecure_outbound)
    secret = new_secret()
    row = endpoints.create(
        ctx.pool,
        endpoint_id=uuid.uuid4(),
        emp_id=request.user.emp_id,
        url=data.url,
        event_types=checked_types(data.event_types),
        description=data.description,
        secret=secret,
        now=datetime.now(UTC),
    )
    out = WebhookEndpointOut.from_row(row)
    return WebhookEndpointCreated(**msgspec.structs.asdict(out), secret=secret)


@get(BASE, guards=[emp_only], sync_to_thread=True, tags=["webhooks"], responses=problems())
def list_endpoints(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> WebhookEndpointPage:
    after = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = endpoints.page(ctx.pool, request.user.emp_id, limit=limit + 1, after=after)  # type: ignore[arg-type]
    next_cursor = cursor_after(rows, limit, "created_at", "id")
    return WebhookEndpointPage([WebhookEndpointOut.from_row(row) for row in rows[:limit]], next_cursor)


@get(
    f"{BASE}/{{endpoint_id:uuid}}",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["webhooks"],
    responses=problems(404),
)
def get_endpoint(
    endpoint_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> WebhookEndpointOut:
    return WebhookEndpointOut.from_row(endpoint_row(ctx, request.user.emp_id, endpoint_id))


@patch(
    f"{BASE}/{{endpoint_id:uuid}}",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["webhooks"],
    responses=problems(404, 413),
)
def update_endpoint(
    endpoint_id: FromPath[UUID],
    data: JSONBody[WebhookEndpointPatch],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
) -> WebhookEndpointOut:
    emp_id = request.user.emp_id
    endpoint_row(ctx, emp_id, endpoint_id)
    changes: dict[str, Any] = {}
    if data.url is not None:
        check_url(data.url, allow_insecure=ctx.allow_insecure_outbound)
        changes["url"] = data.url
    if data.event_types is not None:
        changes["event_types"] = checked_types(data.event_types)
    if data.enabled is not None:
        changes["enabled"] = data.enabled
    if data.description is not None:
        changes["description"] = data.description
    row = endpoints.update(ctx.pool, emp_id, endpoint_id, changes, datetime.now(UTC))
    if row is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return WebhookEndpointOut.from_row(row)


@delete(
    f"{BASE}/{{endpoint_id:uuid}}",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=204,
    tags=["webhooks"],
    responses=problems(404),
)
def delete_endpoint(
    endpoint_id: FromPath[UUID], request: Request[Any, Any, Any], ctx: NamedDependency[ApiContext]
) -> None:
    """The endpoint and its pending deliveries go; the messages stay in the event feed."""
    if not endpoints.delete(ctx.pool, request.user.emp_id, endpoint_id):
        raise NotFound(f"webhook endpoint {endpoint_id} not found")


@post(
    f"{BASE}/{{endpoint_id:uuid}}/rotate-secret",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=200,
    tags=["webhooks"],
    responses=problems(404, 409),
)
def rotate_secret(
    endpoint_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> WebhookSecretOut:
    """A new secret; for 24 hours every delivery is signed with both."""
    secret = new_secret()
    if not endpoints.rotate_secret(ctx.pool, request.user.emp_id, endpoint_id, secret, datetime.now(UTC)):
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return WebhookSecretOut(secret)


@get(
    f"{BASE}/{{endpoint_id:uuid}}/messages",
    guards=[emp_only],
    sync_to_thread=True,
    tags=["webhooks"],
    responses=problems(404),
)
def list_messages(
    endpoint_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
) -> WebhookMessagePage:
    endpoint_row(ctx, request.user.emp_id, endpoint_id)
    after = tuple(decode_cursor(cursor, instant, identifier)) if cursor else None
    rows = endpoints.messages_page(ctx.pool, endpoint_id, limit=limit + 1, after=after)  # type: ignore[arg-type]
    next_cursor = cursor_after(rows, limit, "created_at", "message_id")
    return WebhookMessagePage([WebhookMessageOut.from_row(row) for row in rows[:limit]], next_cursor)


@post(
    f"{BASE}/{{endpoint_id:uuid}}/messages/{{message_id:uuid}}/retry",
    guards=[emp_only],
    sync_to_thread=True,
    status_code=202,
    tags=["webhooks"],
    responses=problems(404, 409),
)
def retry_message(
    endpoint_id: FromPath[UUID],
    message_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    idempotency_key: IdempotencyKey = None,
) -> Response[None]:
    """One more delivery now, also of a failed or delivered message."""
    endpoint_row(ctx, request.user.emp_id, endpoint_id)
    if not endpoints.retry_now(ctx.pool, endpoint_id, message_id, datetime.now(UTC)):
        raise NotFound(f"message {message_id} not found at webhook endpoint {endpoint_id}")
    ctx.wake_webhooks()
    return Response(None, status_code=202)


@get("/v1/events", guards=[readers], sync_to_thread=True, tags=["webhooks"], responses=problems())
def event_feed(
    request: Request[Any, Any, Any],
    ctx: NamedDependency[ApiContext],
    limit: Limit = 50,
    cursor: FromQuery[str | None] = None,
    types: FromQuery[str | None] = None,
) -> FeedPage:
    """The messages webhooks send, as a feed, oldest first; poll again with `next_cursor` (an
    empty page answers one too)."""
    after = decode_cursor(cursor, position)[0] if cursor else 0
    wanted = checked_types([kind.strip() for kind in types.split(",")], "types") if types else None
    rows = endpoints.feed_page(ctx.pool, request.user.emp_id, after=after, types=wanted, limit=limit)
    items = []
    for _, message_id, kind, _, body in rows:
        message = msgspec.json.decode(body)
        items.append(FeedEventOut(str(message_id), kind, message["timestamp"], message["data"]))
    reached = rows[-1][0] if rows else after
    return FeedPage(items, encode_cursor(str(reached)))


ROUTES = [
    create_endpoint,
    list_endpoints,
    get_endpoint,
    update_endpoint,
    delete_endpoint,
    rotate_secret,
    list_messages,
    retry_message,
    event_feed,
]

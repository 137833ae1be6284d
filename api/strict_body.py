"""Strict request bodies: Litestar converts leniently ("2030" -> 2030); the contract says a
wrong type is a 400. This hook decodes each body again, strictly, against the handler's type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from litestar import Request

from api.problems import MalformedJson, field_from_message
from domain.errors import InvalidPeriod, ValidationFailed

T = TypeVar("T")


async def decode_body_strictly(request: Request[Any, Any, Any]) -> None:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None or "json" not in request.headers.get("content-type", "application/json"):
        return
    body = await request.body()
    if not body.strip() and _optional(parameter.annotation):
        return  # an optional body left out
    try:
        decoded = msgspec.json.decode(body, type=parameter.annotation, strict=True)
    except msgspec.ValidationError as error:
        raise validation_failure(error) from None
    except msgspec.DecodeError as error:
        raise MalformedJson(f"body: not valid JSON ({error})", field="body") from None
    check_instants(decoded)


def strictly(value: Any, kind: type[T]) -> T:
    """A decoded JSON value (one item of a bulk request) as `kind`, as strictly as a body."""
    try:
        converted = msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as error:
        raise validation_failure(error) from None
    check_instants(converted)
    return converted


def validation_failure(error: msgspec.ValidationError) -> ValidationFailed:
    message = str(error)
    field = field_from_message(message) or "body"
    return ValidationFailed(f"{field}: {message.split(' - at ')[0]}", field=field)


def check_instants(decoded: Any) -> None:
    beyond = instant_beyond_utc(decoded)
    if beyond is not None:
        # Well-formed, so not a validation error (400): an instant no period can hold.
        raise InvalidPeriod(f"{beyond}: the instant is outside the years 1 to 9999 in UTC", field=beyond)


def instant_beyond_utc(value: Any, path: str = "") -> str | None:
    """The field of the first instant with no UTC equivalent ("0001-01-01T00:00:00+14:00"):
    PostgreSQL would store it, and no reader of that row could load it again."""
    if isinstance(value, datetime):
        try:
            value.astimezone(UTC)
        except OverflowError:
            return path or "body"
        return None
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            found = instant_beyond_utc(getattr(value, name), f"{path}.{name}" if path else name)
            if found:
                return found
    return None


def _optional(annotation: Any) -> bool:
    try:
        msgspec.json.decode(b"null", type=annotation)
    except (msgspec.ValidationError, TypeError):
        return False
    return True

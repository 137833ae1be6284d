"""Strict request bodies: Litestar converts leniently ("2030" -> 2030); the contract says a
wrong type is a 400. This hook decodes each body again, strictly, against the handler's type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from litestar import Request

from api.field_patterns import readable
from api.problems import MalformedJson, field_from_message, unsupported_media_type
from domain.errors import InvalidPeriod, ValidationFailed

T = TypeVar("T")


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def decode_body_strictly(request: Request[Any, Any, Any]) -> None:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return
    body = await request.body()
    content_type = request.headers.get("content-type")
    # JSON in: a body sent as a form or as text would be read by other rules than the contract's.
    if content_type is not None and not is_json(content_type) and (body or content_type.strip()):
        raise unsupported_media_type(
            f"content-type: {content_type.split(';', 1)[0].strip() or 'empty'} is not accepted;"
            " send the body as JSON with 'Content-Type: application/json'",
            field="content-type",
        )
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
    return ValidationFailed(f"{field}: {readable(message.split(' - at ')[0])}", field=field)


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

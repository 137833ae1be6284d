"""Strict request bodies: Litestar converts leniently ("2030" -> 2030); the contract says a
wrong type is a 400. This hook decodes each body again, strictly, against the handler's type."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from api.problems import field_from_message
from domain.errors import ValidationFailed


async def decode_body_strictly(request: Request[Any, Any, Any]) -> None:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None or "json" not in request.headers.get("content-type", "application/json"):
        return
    body = await request.body()
    try:
        msgspec.json.decode(body, type=parameter.annotation, strict=True)
    except msgspec.ValidationError as error:
        message = str(error)
        field = field_from_message(message) or "body"
        raise ValidationFailed(f"{field}: {message.split(' - at ')[0]}", field=field) from None
    except msgspec.DecodeError as error:
        raise ValidationFailed(f"body: not valid JSON ({error})", field="body") from None

"""Opaque list cursors and the contract's `limit` bounds."""

from __future__ import annotations

import base64
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from domain.errors import ValidationFailed

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (max 500)")]


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(parts))).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = msgspec.json.decode(base64.urlsafe_b64decode(padded), type=list[str])
    except (ValueError, msgspec.DecodeError):
        raise ValidationFailed("cursor: not a cursor this API issued", field="cursor") from None
    if len(parts) != size:
        raise ValidationFailed("cursor: not a cursor this API issued", field="cursor")
    return parts

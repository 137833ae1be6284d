"""Opaque list cursors and the contract's `limit` bounds."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from domain.errors import ValidationFailed

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (max 500)")]
MAX_POSITION = 2**63 - 1  # PostgreSQL bigint


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(parts))).decode().rstrip("=")


def cursor_after(rows: Sequence[Mapping[str, Any]], limit: int, *columns: str) -> str | None:
    """The next page's cursor when the query (asked for `limit + 1` rows) found more: the named
    columns of this page's last row, instants in ISO form."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(*(_part(last[column]) for column in columns))


def _part(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def decode_cursor(cursor: str, *kinds: Callable[[str], Any]) -> list[Any]:
    """The parts of a cursor, each checked by its kind: a forged cursor is a 400, never a query."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = msgspec.json.decode(base64.urlsafe_b64decode(padded), type=list[str])
        if len(parts) != len(kinds):
            raise ValueError("wrong number of parts")
        return [kind(part) for kind, part in zip(kinds, parts, strict=True)]
    except (ValueError, msgspec.DecodeError):
        raise ValidationFailed("cursor: not a cursor this API issued", field="cursor") from None


def position(part: str) -> int:
    value = int(part)
    if not 0 <= value <= MAX_POSITION:
        raise ValueError("position out of range")
    return value


def instant(part: str) -> str:
    if datetime.fromisoformat(part).tzinfo is None:
        raise ValueError("instant without a zone")
    return part


def identifier(part: str) -> str:
    return str(UUID(part))


def text(part: str) -> str:
    if "\x00" in part:
        raise ValueError("NUL in text")
    return part

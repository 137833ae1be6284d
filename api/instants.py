"""Instants in query strings: RFC 3339 with a zone, or a clear 400 naming the parameter."""

from __future__ import annotations

from datetime import datetime

from domain.errors import ValidationFailed


def parse_instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValidationFailed(f"{name}: not an RFC 3339 timestamp", field=name) from None
    if instant.tzinfo is None:
        raise ValidationFailed(f"{name}: the timestamp needs a zone (Z or an offset)", field=name)
    return instant

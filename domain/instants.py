"""Instants as text: RFC 3339 in UTC with `Z`, the one form the ledger answers with."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

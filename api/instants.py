"""Instants in query strings: RFC 3339 with a zone, answered in UTC; a clear 400 naming the
parameter when malformed, 422 when the instant has no UTC equivalent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar.openapi.spec import OpenAPIFormat
from litestar.params import QueryParameter

from domain.errors import InvalidPeriod, ValidationFailed

# The `from` and `to` of a period, as parsed by parse_instant.
FromInstant = Annotated[
    str | None,
    QueryParameter(
        name="from",
        description="RFC 3339 instant, inclusive",
        schema_extra={"format": OpenAPIFormat.DATE_TIME},
    ),
]
ToInstant = Annotated[
    str | None,
    QueryParameter(
        description="RFC 3339 instant, exclusive", schema_extra={"format": OpenAPIFormat.DATE_TIME}
    ),
]


def parse_instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValidationFailed(f"{name}: not an RFC 3339 timestamp", field=name) from None
    if instant.tzinfo is None:
        raise ValidationFailed(f"{name}: the timestamp needs a zone (Z or an offset)", field=name)
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise InvalidPeriod(
            f"{name}: the instant is outside the years 1 to 9999 in UTC", field=name
        ) from None

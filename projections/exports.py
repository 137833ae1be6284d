"""Exports of sessions and transactions, streamed from a server-side cursor in chunks, so an
export of millions of rows runs in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg_pool import ConnectionPool

from domain.instants import utc_text

CHUNK_ROWS = 2000

SESSION_COLUMNS = [
    "session_id", "customer_id", "started_at", "ended_at", "energy_wh", "cost_minor", "currency", "location",
    "recorded_at",
]  # fmt: skip
TRANSACTION_COLUMNS = [
    "id", "customer_id", "sequence", "type", "amount_minor", "balance_after_minor", "currency", "occurred_at",
    "recorded_at", "reference", "description",
]  # fmt: skip
EXPORTS = {
    "sessions": (
        SESSION_COLUMNS,
        "SELECT s.session_id, s.customer_id, s.started_at, s.ended_at, s.energy_wh, s.cost_minor, e.currency,"
        " s.location, s.recorded_at FROM sessions s JOIN emps e ON e.id = s.emp_id"
        " WHERE s.emp_id = %s AND s.ended_at >= %s AND s.ended_at < %s ORDER BY s.ended_at, s.session_id",
    ),
    "transactions": (
        TRANSACTION_COLUMNS,
        "SELECT t.id, t.customer_id, t.sequence, t.type, t.amount_minor, t.balance_after_minor, e.currency,"
        " t.occurred_at, t.recorded_at, t.reference, t.description FROM transactions t"
        " JOIN emps e ON e.id = t.emp_id"
        " WHERE t.emp_id = %s AND t.recorded_at >= %s AND t.recorded_at < %s"
        " ORDER BY t.recorded_at, t.customer_id, t.sequence",
    ),
}  # fmt: skip


def export_rows(
    pool: ConnectionPool, kind: str, emp_id: UUID, start: datetime, end: datetime
) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of rows from a server-side cursor on a connection held for the export."""
    _, sql = EXPORTS[kind]
    with pool.connection() as conn, conn.transaction(), conn.cursor(name=f"export_{kind}") as cursor:
        cursor.itersize = CHUNK_ROWS
        cursor.execute(sql, (emp_id, start, end))
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            yield chunk


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        return value.strip() if len(value) == 3 else value  # char(3) currencies come padded
    return value


def as_csv(kind: str, chunks: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    header, _ = EXPORTS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield buffer.getvalue().encode()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[_text(v) for v in row] for row in chunk])
        yield buffer.getvalue().encode()


def as_ndjson(kind: str, chunks: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    header, _ = EXPORTS[kind]
    encoder = msgspec.json.Encoder()
    for chunk in chunks:
        yield b"".join(
            encoder.encode(dict(zip(header, map(_text, row), strict=True))) + b"\n" for row in chunk
        )


# The response adds the charset to text/* types itself.
FORMATS = {"csv": (as_csv, "text/csv"), "ndjson": (as_ndjson, "application/x-ndjson")}


def export(
    pool: ConnectionPool, kind: str, emp_id: UUID, start: datetime, end: datetime, fmt: str
) -> tuple[Iterator[bytes], str]:
    """The export's byte chunks and media type."""
    render, media_type = FORMATS[fmt]
    return render(kind, export_rows(pool, kind, emp_id, start, end)), media_type

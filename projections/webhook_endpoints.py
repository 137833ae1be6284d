"""An EMP's webhook endpoints (service data, not events): where its messages go, which types,
and the secrets that sign them. A rotated secret keeps signing beside the new one for a day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

COLUMNS = "id, emp_id, url, event_types, description, enabled, created_at"
ROTATION_OVERLAP = timedelta(hours=24)


def create(
    pool: ConnectionPool,
    *,
    endpoint_id: UUID,
    emp_id: UUID,
    url: str,
    event_types: list[str] | None,
    description: str | None,
    secret: str,
    now: datetime,
) -> dict[str, Any]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "INSERT INTO webhook_endpoints (id, emp_id, url, event_types, description, secret, created_at,"
            f" updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
            (endpoint_id, emp_id, url, event_types, description, secret, now, now),
        )
        row = cur.fetchone()
    assert row is not None
    return row


def find(pool: ConnectionPool, emp_id: UUID, endpoint_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM webhook_endpoints WHERE id = %s AND emp_id = %s", (endpoint_id, emp_id)
        )
        return cur.fetchone()


def page(
    pool: ConnectionPool, emp_id: UUID, *, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM webhook_endpoints WHERE emp_id = %s"
            " AND (%s::timestamptz IS NULL OR (created_at, id) > (%s::timestamptz, %s::uuid))"
            " ORDER BY created_at, id LIMIT %s",
            (emp_id, after and after[0], after and after[0], after and after[1], limit),
        )
        return cur.fetchall()


def update(
    pool: ConnectionPool, emp_id: UUID, endpoint_id: UUID, changes: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Set the given columns (url, event_types, enabled, description)."""
    allowed = {"url", "event_types", "enabled", "description"}
    assignments = [f"{name} = %s" for name in changes if name in allowed]
    values = [value for name, value in changes.items() if name in allowed]
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"UPDATE webhook_endpoints SET {', '.join([*assignments, 'updated_at = %s'])}"
            f" WHERE id = %s AND emp_id = %s RETURNING {COLUMNS}",
            (*values, now, endpoint_id, emp_id),
        )
        return cur.fetchone()


def delete(pool: ConnectionPool, emp_id: UUID, endpoint_id: UUID) -> bool:
    """The endpoint and its deliveries; the messages stay (the feed, other endpoints)."""
    with pool.connection() as conn:
        deleted = conn.execute(
            "DELETE FROM webhook_endpoints WHERE id = %s AND emp_id = %s", (endpoint_id, emp_id)
        )
        return deleted.rowcount > 0


def rotate_secret(pool: ConnectionPool, emp_id: UUID, endpoint_id: UUID, secret: str, now: datetime) -> bool:
    """The new secret signs from now; the old one beside it for ROTATION_OVERLAP."""
    with pool.connection() as conn:
        rotated = conn.execute(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = %s,"
            " secret = %s, updated_at = %s WHERE id = %s AND emp_id = %s",
            (now + ROTATION_OVERLAP, secret, now, endpoint_id, emp_id),
        )
        return rotated.rowcount > 0


def messages_page(
    pool: ConnectionPool, endpoint_id: UUID, *, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """An endpoint's deliveries with their messages, oldest first."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT d.message_id, m.type, d.state, d.attempts, d.last_status_code, d.next_attempt_at,"
            " d.created_at FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id"
            " WHERE d.endpoint_id = %s"
            " AND (%s::timestamptz IS NULL OR (d.created_at, d.message_id) > (%s::timestamptz, %s::uuid))"
            " ORDER BY d.created_at, d.message_id LIMIT %s",
            (endpoint_id, after and after[0], after and after[0], after and after[1], limit),
        )
        return cur.fetchall()


def retry_now(pool: ConnectionPool, endpoint_id: UUID, message_id: UUID, now: datetime) -> bool:
    """One more delivery now, whatever the message's state."""
    with pool.connection() as conn:
        retried = conn.execute(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = %s, lease_until = NULL"
            " WHERE endpoint_id = %s AND message_id = %s",
            (now, endpoint_id, message_id),
        )
        return retried.rowcount > 0


def feed_page(
    pool: ConnectionPool, emp_id: UUID, *, after: int, types: list[str] | None, limit: int
) -> list[tuple[Any, ...]]:
    """The EMP's messages after a position, oldest first: (position, id, type, timestamp, body)."""
    with pool.connection() as conn:
        return conn.execute(
            "SELECT position, id, type, timestamp, body FROM webhook_messages WHERE emp_id = %s"
            " AND position > %s AND (%s::text[] IS NULL OR type = ANY(%s::text[]))"
            " ORDER BY position LIMIT %s",
            (emp_id, after, types, types, limit),
        ).fetchall()

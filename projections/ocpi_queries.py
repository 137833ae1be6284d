"""Query functions over the OCPI read models (parties, tokens, received CDRs), each scoped to
one EMP."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

PARTY_COLUMNS = "id, country_code, party_id, name, markup_bp, status, created_at"


def parties(pool: ConnectionPool, emp_id: UUID) -> list[dict[str, Any]]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {PARTY_COLUMNS} FROM ocpi_parties WHERE emp_id = %s ORDER BY created_at, id", (emp_id,)
        )
        return cur.fetchall()


def active_party(pool: ConnectionPool, emp_id: UUID, country_code: str, party_id: str) -> UUID | None:
    """The EMP's party with these codes that is not unregistered, if any."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id FROM ocpi_parties WHERE emp_id = %s AND country_code = %s AND party_id = %s"
            " AND status <> 'unregistered' LIMIT 1",
            (emp_id, country_code, party_id),
        ).fetchone()
    if row is None:
        return None
    value = row["id"] if isinstance(row, dict) else row[0]
    return UUID(str(value))


def tokens_page(
    pool: ConnectionPool,
    emp_id: UUID,
    *,
    date_from: datetime | None,
    date_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[int, list[dict[str, Any]]]:
    """The EMP's tokens last updated in [date_from, date_to), oldest first, with the total
    count: (total, page)."""
    where = "t.emp_id = %(emp)s"
    if date_from is not None:
        where += " AND t.last_updated >= %(from)s"
    if date_to is not None:
        where += " AND t.last_updated < %(to)s"
    values = {"emp": emp_id, "from": date_from, "to": date_to, "offset": offset, "limit": limit}
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT count(*) AS total FROM customer_tokens t WHERE {where}", values)
        total = cur.fetchone()
        cur.execute(
            "SELECT t.uid, t.type, t.contract_id, t.visual_number, t.valid, t.last_updated, c.account_type"
            f" FROM customer_tokens t JOIN customers c ON c.id = t.customer_id WHERE {where}"
            " ORDER BY t.last_updated, t.id OFFSET %(offset)s LIMIT %(limit)s",
            values,
        )
        return (total["total"] if total else 0), cur.fetchall()


def cdr_body(pool: ConnectionPool, emp_id: UUID, party: UUID, cdr_id: UUID) -> str | None:
    """A CDR as its operator sent it; only to that operator."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT body FROM ocpi_cdrs WHERE id = %s AND emp_id = %s AND party = %s", (cdr_id, emp_id, party)
        ).fetchone()
    if row is None:
        return None
    return str(row["body"] if isinstance(row, dict) else row[0])


UNMATCHED_COLUMNS = (
    "c.id, c.session_id, c.token_uid, c.cost_minor, c.currency, c.received_at,"
    " p.country_code, p.party_id, p.name AS party_name"
)


def unmatched_cdrs(
    pool: ConnectionPool, emp_id: UUID, *, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """CDRs whose token no customer held, not assigned yet, oldest first; `after` is
    (received_at, id)."""
    condition = "" if after is None else " AND (c.received_at, c.id) > (%(at)s::timestamptz, %(id)s::uuid)"
    values = {
        "emp": emp_id,
        "limit": limit,
        "at": after[0] if after else None,
        "id": after[1] if after else None,
    }
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {UNMATCHED_COLUMNS} FROM ocpi_cdrs c JOIN ocpi_parties p ON p.id = c.party"
            f" WHERE c.emp_id = %(emp)s AND c.customer_id IS NULL{condition}"
            " ORDER BY c.received_at, c.id LIMIT %(limit)s",
            values,
        )
        return cur.fetchall()

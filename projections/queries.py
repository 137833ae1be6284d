"""Query functions over the read models, each scoped to one EMP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

CUSTOMER_COLUMNS = (
    "id, emp_id, name, email, account_type, currency, external_ref, balance_minor, card_brand,"
    " card_last4, card_exp_month, card_exp_year, auto_top_up_enabled,"
    " auto_top_up_threshold_minor, auto_top_up_amount_minor, created_at"
)


def customer(pool: ConnectionPool, emp_id: UUID, customer_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = %s AND emp_id = %s",
            (customer_id, emp_id),
        )
        return cur.fetchone()


def customers_page(
    pool: ConnectionPool, emp_id: UUID, *, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """A page of an EMP's customers in creation order; `after` is (created_at, id)."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        if after is None:
            cur.execute(
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE emp_id = %s"
                " ORDER BY created_at, id LIMIT %s",
                (emp_id, limit),
            )
        else:
            cur.execute(
                f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE emp_id = %s"
                " AND (created_at, id) > (%s::timestamptz, %s::uuid)"
                " ORDER BY created_at, id LIMIT %s",
                (emp_id, after[0], after[1], limit),
            )
        return cur.fetchall()


def emp(pool: ConnectionPool, emp_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, name, currency, auto_top_up_threshold_minor, auto_top_up_amount_minor,"
            " created_at FROM emps WHERE id = %s",
            (emp_id,),
        )
        return cur.fetchone()


def tracking_positions(
    pool: ConnectionPool, tables: dict[str, str], app_name: str
) -> dict[str, int]:
    """Positions recorded in each projection's tracking table (name -> table)."""
    positions: dict[str, int] = {}
    with pool.connection() as conn:
        for name, table in tables.items():
            row = conn.execute(
                f'SELECT max(notification_id) FROM "{table}" WHERE application_name = %s',
                (app_name,),
            ).fetchone()
            positions[name] = (row[0] if row else None) or 0
    return positions

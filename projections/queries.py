"""Query functions over the read models, each scoped to one EMP."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.folding import fold

CUSTOMER_COLUMNS = (
    "id, emp_id, name, email, account_type, currency, external_ref, balance_minor, card_brand,"
    " card_last4, card_exp_month, card_exp_year, auto_top_up_enabled,"
    " auto_top_up_threshold_minor, auto_top_up_amount_minor, created_at, billing_json,"
    " dunning_json"
)


def customer(pool: ConnectionPool, emp_id: UUID, customer_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = %s AND emp_id = %s",
            (customer_id, emp_id),
        )
        return cur.fetchone()


def customers_page(
    pool: ConnectionPool,
    emp_id: UUID,
    *,
    limit: int,
    after: tuple[str, str] | None,
    external_ref: str | None = None,
    email: str | None = None,
    q: str | None = None,
) -> list[dict[str, Any]]:
    """A page of an EMP's customers in creation order; `after` is (created_at, id). Filters:
    `external_ref` exactly, `email` whole, `q` within the name or the e-mail; both of these
    case- and accent-insensitive (projections/folding.py)."""
    conditions = ["emp_id = %s"]
    values: list[Any] = [emp_id]
    if after is not None:
        conditions.append("(created_at, id) > (%s::timestamptz, %s::uuid)")
        values += after
    if external_ref is not None:
        conditions.append("external_ref = %s")
        values.append(external_ref)
    if email is not None:
        conditions.append("email_folded = %s")
        values.append(fold(email.strip()))
    if q is not None:
        conditions.append("(name_folded LIKE %s OR email_folded LIKE %s)")
        values += [_containing(fold(q.strip()))] * 2
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {' AND '.join(conditions)}"
            " ORDER BY created_at, id LIMIT %s",
            (*values, limit),
        )
        return cur.fetchall()


def _containing(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def emps_page(
    pool: ConnectionPool, *, limit: int, after: tuple[str, str] | None
) -> list[tuple[UUID, datetime]]:
    """A page of EMPs' (id, created_at) in creation order; `after` is (created_at, id)."""
    start, after_id = after or (None, None)
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, created_at FROM emps"
            " WHERE %s::timestamptz IS NULL OR (created_at, id) > (%s::timestamptz, %s::uuid)"
            " ORDER BY created_at, id LIMIT %s",
            (start, start, after_id, limit),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def sessions_page(
    pool: ConnectionPool,
    emp_id: UUID,
    *,
    limit: int,
    after: tuple[str, str] | None,
    customer_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> list[dict[str, Any]]:
    """A page of an EMP's sessions in the order they ended (then by session_id), those that
    ended in [since, until) when given; `after` is (ended_at, session_id)."""
    conditions = ["s.emp_id = %s"]
    values: list[Any] = [emp_id]
    for condition, value in (
        ("s.customer_id = %s", customer_id),
        ("s.ended_at >= %s", since),
        ("s.ended_at < %s", until),
    ):
        if value is not None:
            conditions.append(condition)
            values.append(value)
    if after is not None:
        conditions.append("(s.ended_at, s.session_id) > (%s::timestamptz, %s)")
        values += after
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT s.session_id, s.customer_id, s.started_at, s.ended_at, s.energy_wh, s.cost_minor,"
            " e.currency, s.location, s.recorded_at, s.invoice_id"
            f" FROM sessions s JOIN emps e ON e.id = s.emp_id WHERE {' AND '.join(conditions)}"
            " ORDER BY s.ended_at, s.session_id LIMIT %s",
            (*values, limit),
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


def tracking_positions(pool: ConnectionPool, tables: dict[str, str], app_name: str) -> dict[str, int]:
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


def packages_page(
    pool: ConnectionPool, emp_id: UUID, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    """A page of the EMP's catalog in code order; `after` is the last code seen."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, code, name, kind, recurring, payment, price_minor, created_at"
            " FROM packages WHERE emp_id = %s AND code > %s ORDER BY code LIMIT %s",
            (emp_id, after or "", limit),
        )
        return cur.fetchall()


def package_by_code(pool: ConnectionPool, emp_id: UUID, code: str) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, code, name, kind, recurring, payment, price_minor, created_at"
            " FROM packages WHERE emp_id = %s AND code = %s",
            (emp_id, code),
        )
        return cur.fetchone()


SUBSCRIPTION_COLUMNS = "id, customer_id, tariff, billing_day, started_at, ended_at"


def subscription(pool: ConnectionPool, emp_id: UUID, subscription_id: UUID) -> dict[str, Any] | None:
    """A subscription with its packages (oldest first) under the key "packages"."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = %s AND emp_id = %s",
            (subscription_id, emp_id),
        )
        found = cur.fetchone()
        if found is None:
            return None
        found["packages"] = _packages_of(cur, [found["id"]])[found["id"]]
        return found


def customer_subscriptions(pool: ConnectionPool, emp_id: UUID, customer_id: UUID) -> list[dict[str, Any]]:
    """A customer's subscriptions, oldest first, each with its packages."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_id = %s AND emp_id = %s"
            " ORDER BY started_at, id",
            (customer_id, emp_id),
        )
        found = cur.fetchall()
        packages = _packages_of(cur, [row["id"] for row in found])
        for row in found:
            row["packages"] = packages[row["id"]]
        return found


def _packages_of(cur: Any, subscription_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    cur.execute(
        "SELECT subscription_id, id, code, kind, recurring, payment, price_minor, acquired_at, status,"
        " cancelled_at FROM subscription_packages WHERE subscription_id = ANY(%s) ORDER BY acquired_at, id",
        (subscription_ids,),
    )
    packages: dict[UUID, list[dict[str, Any]]] = {subscription_id: [] for subscription_id in subscription_ids}
    for row in cur.fetchall():
        packages[row.pop("subscription_id")].append(row)
    return packages


def subscription_package(
    pool: ConnectionPool, emp_id: UUID, subscription_id: UUID, package_instance_id: UUID
) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT p.id, p.code, p.kind, p.recurring, p.payment, p.price_minor, p.acquired_at,"
            " p.status, p.cancelled_at FROM subscription_packages p"
            " JOIN subscriptions s ON s.id = p.subscription_id"
            " WHERE p.id = %s AND s.id = %s AND s.emp_id = %s",
            (package_instance_id, subscription_id, emp_id),
        )
        return cur.fetchone()


def transactions_page(
    pool: ConnectionPool, emp_id: UUID, customer_id: UUID, *, limit: int, after: int
) -> list[dict[str, Any]]:
    """Balance movements oldest first; `after` is the last sequence seen."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, sequence, type, amount_minor, balance_after_minor, occurred_at,"
            " recorded_at, reference, description FROM transactions"
            " WHERE customer_id = %s AND emp_id = %s AND sequence > %s"
            " ORDER BY sequence LIMIT %s",
            (customer_id, emp_id, after, limit),
        )
        return cur.fetchall()


def pending_card_payments(
    pool: ConnectionPool, *, automatic_only_before: Any, limit: int = 100
) -> list[tuple[UUID, UUID]]:
    """(customer_id, payment_id) of card payments awaiting their outcome: every automatic
    top-up, and others requested before `automatic_only_before` (left behind by a crash)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT customer_id, payment_id FROM card_payments WHERE status = 'pending'"
            " AND (purpose = 'automatic_top_up' OR requested_at < %s)"
            " ORDER BY requested_at LIMIT %s",
            (automatic_only_before, limit),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


INVOICE_COLUMNS = (
    "id, number, sequence, customer_id, subscription_id, period_start, period_end, currency,"
    " vat_rate_bp, lines, net_minor, vat_minor, total_minor, issued_at, status, due_at,"
    " amount_paid_minor, credited_minor"
)
CREDIT_NOTE_COLUMNS = (
    "id, number, sequence, customer_id, invoice_id, invoice_number, currency, reason, lines,"
    " net_minor, vat_minor, total_minor, issued_at"
)


def credit_note(pool: ConnectionPool, emp_id: UUID, credit_note_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {CREDIT_NOTE_COLUMNS} FROM credit_notes WHERE id = %s AND emp_id = %s",
            (credit_note_id, emp_id),
        )
        return cur.fetchone()


def credit_notes_page(
    pool: ConnectionPool, emp_id: UUID, *, customer_id: UUID | None, limit: int, after: int
) -> list[dict[str, Any]]:
    """The EMP's credit notes in number order; `after` is the last sequence seen."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {CREDIT_NOTE_COLUMNS} FROM credit_notes WHERE emp_id = %s AND sequence > %s"
            " AND (%s::uuid IS NULL OR customer_id = %s::uuid) ORDER BY sequence LIMIT %s",
            (emp_id, after, customer_id, customer_id, limit),
        )
        return cur.fetchall()


def invoice(pool: ConnectionPool, emp_id: UUID, invoice_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = %s AND emp_id = %s", (invoice_id, emp_id)
        )
        return cur.fetchone()


def invoices_page(
    pool: ConnectionPool, emp_id: UUID, *, customer_id: UUID | None, limit: int, after: int
) -> list[dict[str, Any]]:
    """The EMP's invoices in number order; `after` is the last sequence seen."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {INVOICE_COLUMNS} FROM invoices WHERE emp_id = %s AND sequence > %s"
            " AND (%s::uuid IS NULL OR customer_id = %s::uuid) ORDER BY sequence LIMIT %s",
            (emp_id, after, customer_id, customer_id, limit),
        )
        return cur.fetchall()


def job_runs_page(
    pool: ConnectionPool, *, limit: int, before: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """Job runs, newest first; `before` is (started_at, id) of the last one seen."""
    columns = (
        "id, job, as_of, started_at, finished_at, triggered_by, status, processed, failures, details, emp_id"
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        if before is None:
            cur.execute(
                f"SELECT {columns} FROM job_runs ORDER BY started_at DESC, id DESC LIMIT %s", (limit,)
            )
        else:
            cur.execute(
                f"SELECT {columns} FROM job_runs WHERE (started_at, id) < (%s::timestamptz, %s::uuid)"
                " ORDER BY started_at DESC, id DESC LIMIT %s",
                (before[0], before[1], limit),
            )
        return cur.fetchall()


def balance_at(pool: ConnectionPool, customer_id: UUID, instant: Any) -> int:
    """The balance as the ledger had recorded it at an instant: after the last movement
    recorded at or before it."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT balance_after_minor FROM transactions WHERE customer_id = %s AND recorded_at <= %s"
            " ORDER BY sequence DESC LIMIT 1",
            (customer_id, instant),
        ).fetchone()
    return int(row[0]) if row else 0


def balance_happened_by(pool: ConnectionPool, customer_id: UUID, as_of: Any, recorded_by: Any = None) -> int:
    """The sum of the movements whose business time is at or before `as_of`, of those recorded
    by `recorded_by` (default: all recorded so far)."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM transactions WHERE customer_id = %s"
            " AND occurred_at <= %s AND (%s::timestamptz IS NULL OR recorded_at <= %s)",
            (customer_id, as_of, recorded_by, recorded_by),
        ).fetchone()
    return int(row[0]) if row else 0


def search_customers(pool: ConnectionPool, emp_id: UUID, text: str, limit: int = 50) -> list[dict[str, Any]]:
    """Customers of one EMP whose name, e-mail, external reference or id contains `text` (name
    and e-mail case- and accent-insensitive, as the API's `q`)."""
    folded = _containing(fold(text.strip()))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE emp_id = %s AND (name_folded LIKE %s"
            " OR email_folded LIKE %s OR external_ref ILIKE %s OR id::text = %s) ORDER BY name, id LIMIT %s",
            (emp_id, folded, folded, _containing(text.strip()), text.strip().lower(), limit),
        )
        return cur.fetchall()


def balance_series(pool: ConnectionPool, customer_id: UUID, limit: int = 2000) -> list[tuple[Any, int]]:
    """(business time, balance after) of the latest movements in business-time order, oldest
    first, for the chart: the balance as it stood at each moment, as known now."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT occurred_at, balance FROM (SELECT occurred_at, sequence,"
            " SUM(amount_minor) OVER (ORDER BY occurred_at, sequence) AS balance"
            " FROM transactions WHERE customer_id = %s) running"
            " ORDER BY occurred_at DESC, sequence DESC LIMIT %s",
            (customer_id, limit),
        ).fetchall()
    return [(row[0], int(row[1])) for row in reversed(rows)]

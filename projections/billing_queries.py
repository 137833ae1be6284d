"""The batch jobs' work lists, read from the read models (the jobs re-check every item against
the aggregates, so a lagging read model only moves work to the next run)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.aggregates.invoice import UninvoicedSession


class PostgresBillingQueries:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def _pairs(self, sql: str, *params: object) -> list[tuple[UUID, UUID]]:
        with self._pool.connection() as conn:
            return [(row[0], row[1]) for row in conn.execute(sql, params).fetchall()]

    def prepaid_subscriptions_with_recurring_packages(self) -> list[tuple[UUID, UUID]]:
        return self._pairs(
            "SELECT DISTINCT s.emp_id, s.id FROM subscriptions s"
            " JOIN subscription_packages p ON p.subscription_id = s.id"
            " WHERE s.tariff = 'prepaid' AND p.recurring ORDER BY s.emp_id, s.id"
        )

    def customers_to_dun(self, due_by: datetime) -> list[tuple[UUID, UUID]]:
        return self._pairs(
            "SELECT emp_id, customer_id FROM debits WHERE status = 'unpaid' AND due_at <= %s"
            " UNION SELECT emp_id, customer_id FROM invoices WHERE status = 'open' AND due_at <= %s"
            " UNION SELECT emp_id, id FROM customers WHERE dunning_json IS NOT NULL"
            " ORDER BY 1, 2",
            due_by,
            due_by,
        )

    def overdue_invoices(self, customer_id: UUID, due_by: datetime) -> list[tuple[UUID, datetime]]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, due_at FROM invoices WHERE customer_id = %s AND status = 'open'"
                " AND due_at <= %s ORDER BY due_at, id",
                (customer_id, due_by),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def postpaid_subscriptions(self) -> list[tuple[UUID, UUID]]:
        return self._pairs(
            "SELECT emp_id, id FROM subscriptions WHERE tariff = 'postpaid' ORDER BY emp_id, started_at, id"
        )

    def uninvoiced_sessions(self, customer_id: UUID, ended_before: datetime) -> list[UninvoicedSession]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT session_id, ended_at, energy_wh, cost_minor FROM sessions"
                " WHERE customer_id = %s AND invoice_id IS NULL AND ended_at < %s"
                " ORDER BY ended_at, session_id",
                (customer_id, ended_before),
            ).fetchall()
        return [UninvoicedSession(row[0], row[1], row[2], row[3]) for row in rows]

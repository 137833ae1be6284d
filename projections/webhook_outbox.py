"""The webhook deliveries in PostgreSQL: claimed by a worker under a lease (so a delivery that
hangs holds no transaction, and one whose worker died is taken up again once its lease ends),
then recorded as delivered, to be tried again, or failed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.webhooks import Delivery


class PostgresWebhookOutbox:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        per_endpoint: int,
        in_flight: Mapping[UUID, int],
        lease: timedelta,
    ) -> list[Delivery]:
        """Due deliveries, each endpoint's oldest first and at most `per_endpoint` of them in
        flight, leased to the caller. Every enabled endpoint is looked at on its own: however
        many deliveries wait for one, another endpoint's are taken in the same claim."""
        if limit <= 0:
            return []
        busy_ids = list(in_flight)
        with self._pool.connection() as conn:
            rows = conn.execute(
                "WITH chosen AS (SELECT due.message_id, due.endpoint_id FROM webhook_endpoints e"
                " LEFT JOIN unnest(%(busy)s::uuid[], %(counts)s::integer[]) AS busy(id, n) ON busy.id = e.id"
                " CROSS JOIN LATERAL (SELECT d.message_id, d.endpoint_id, d.next_attempt_at"
                " FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending'"
                " AND d.next_attempt_at <= %(now)s AND (d.lease_until IS NULL OR d.lease_until < %(now)s)"
                " ORDER BY d.next_attempt_at LIMIT greatest(%(per_endpoint)s - coalesce(busy.n, 0), 0)) due"
                " WHERE e.enabled ORDER BY due.next_attempt_at LIMIT %(limit)s),"
                " leased AS (UPDATE webhook_deliveries d SET lease_until = %(until)s FROM chosen"
                " WHERE d.message_id = chosen.message_id AND d.endpoint_id = chosen.endpoint_id"
                " AND d.state = 'pending' AND (d.lease_until IS NULL OR d.lease_until < %(now)s)"
                " RETURNING d.message_id, d.endpoint_id, d.attempts)"
                " SELECT leased.message_id, leased.endpoint_id, e.url, e.secret, e.previous_secret,"
                " e.previous_secret_until, m.body, leased.attempts, m.timestamp FROM leased"
                " JOIN webhook_endpoints e ON e.id = leased.endpoint_id"
                " JOIN webhook_messages m ON m.id = leased.message_id",
                {
                    "now": now,
                    "until": now + lease,
                    "busy": busy_ids,
                    "counts": [in_flight[key] for key in busy_ids],
                    "per_endpoint": per_endpoint,
                    "limit": limit,
                },
            ).fetchall()
        deliveries = []
        for message_id, endpoint_id, url, secret, previous, previous_until, body, attempts, recorded in rows:
            signing = [secret] + ([previous] if previous and previous_until and previous_until > now else [])
            deliveries.append(
                Delivery(message_id, endpoint_id, url, signing, body.encode(), attempts, recorded)
            )
        return deliveries

    def delivered(self, delivery: Delivery, status: int, now: datetime) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,"
                " last_status_code = %s, last_error = NULL, lease_until = NULL, delivered_at = %s"
                " WHERE message_id = %s AND endpoint_id = %s",
                (status, now, delivery.message_id, delivery.endpoint_id),
            )

    def not_delivered(
        self, delivery: Delivery, status: int | None, error: str, next_attempt_at: datetime | None
    ) -> None:
        """Tried again at `next_attempt_at`; None: the last attempt, the message is failed."""
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = %s,"
                " last_error = %s, lease_until = NULL,"
                " state = CASE WHEN %s::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,"
                " next_attempt_at = coalesce(%s::timestamptz, next_attempt_at)"
                " WHERE message_id = %s AND endpoint_id = %s",
                (
                    status,
                    error[:500],
                    next_attempt_at,
                    next_attempt_at,
                    delivery.message_id,
                    delivery.endpoint_id,
                ),
            )

    def counts_by_state(self) -> dict[str, int]:
        """Deliveries waiting and failed (each read from its own small index; the delivered,
        which only grow, are counted by the attempts metric)."""
        with self._pool.connection() as conn:
            pending, failed = conn.execute(
                "SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'),"
                " (SELECT count(*) FROM webhook_deliveries WHERE state = 'failed')"
            ).fetchone() or (0, 0)
        return {"pending": int(pending), "failed": int(failed)}

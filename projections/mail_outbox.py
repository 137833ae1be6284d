"""The outbox of payment-failure mail in PostgreSQL: rows are written by the accounts
projection (exactly once per failure) and sent under a row lock, so two workers never send the
same mail and a sent mail is never sent again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from psycopg_pool import ConnectionPool

from domain.notifications import OutboxMail

logger = logging.getLogger(__name__)


class PostgresMailOutbox:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def deliver_due(
        self, now: datetime, send: Callable[[OutboxMail], None], retry_after: Callable[[int], float]
    ) -> int:
        sent = 0
        while True:
            with self._pool.connection() as conn, conn.transaction():
                row = conn.execute(
                    "SELECT id, recipient, subject, body, attempts FROM mail_outbox"
                    " WHERE status = 'pending' AND next_attempt_at <= %s"
                    " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                    (now,),
                ).fetchone()
                if row is None:
                    return sent
                mail = OutboxMail(row[0], row[1], row[2], row[3], row[4])
                try:
                    send(mail)
                except Exception as error:
                    attempts = mail.attempts + 1
                    conn.execute(
                        "UPDATE mail_outbox SET attempts = %s, last_error = %s, next_attempt_at = %s"
                        " WHERE id = %s",
                        (attempts, str(error)[:500], now + timedelta(seconds=retry_after(attempts)), mail.id),
                    )
                    logger.warning(
                        "mail not accepted; will retry", extra={"mail_id": str(mail.id), "error": str(error)}
                    )
                    continue
                conn.execute(
                    "UPDATE mail_outbox SET status = 'sent', sent_at = %s, attempts = attempts + 1"
                    " WHERE id = %s",
                    (now, mail.id),
                )
                sent += 1

"""The outbox of customer mail in PostgreSQL: rows are written by projections (exactly once
per payment failure, per issued invoice or credit note, its PDF attached as it is sent) and
sent under a row lock, so two workers never send the same mail and a sent mail is never sent
again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.notifications import Attachment, OutboxMail
from projections.documents.model import document
from projections.documents.pdf import pdf_document

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
                    "SELECT id, recipient, subject, body, attempts, attachment_kind, attachment_id"
                    " FROM mail_outbox"
                    " WHERE status = 'pending' AND next_attempt_at <= %s"
                    " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                    (now,),
                ).fetchone()
                if row is None:
                    return sent
                try:
                    # A document is rendered as it is sent, from the read model (never stored).
                    attachments = () if row[5] is None else (self._attachment(row[5], row[6]),)
                    mail = OutboxMail(row[0], row[1], row[2], row[3], row[4], attachments)
                    send(mail)
                except Exception as error:
                    mail = OutboxMail(row[0], row[1], row[2], row[3], row[4])
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

    def _attachment(self, kind: str, document_id: UUID) -> Attachment:
        doc = document(self._pool, kind, document_id)
        if doc is None:
            raise LookupError(f"{kind} {document_id} is not in the read model yet")
        return Attachment(doc.filename, "application/pdf", pdf_document(doc))

"""Customer mail (payment failures, invoices and credit notes): a Mailer port with its SMTP
adapter, and the worker that empties the outbox, retrying each mail until the server accepts it."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlparse

from commands.background import BackgroundWorker
from commands.ports import Clock
from domain.notifications import OutboxMail

logger = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, mail: OutboxMail) -> None:
        """Hand the mail over; raise if the server did not accept it."""
        ...


class MailOutbox(Protocol):
    def deliver_due(
        self, now: datetime, send: Callable[[OutboxMail], None], retry_after: Callable[[int], float]
    ) -> int:
        """Send every due mail once, each under a row lock, and record sent or retry."""
        ...


class SmtpMailer:
    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps"):
            raise ValueError(f"CHARGELEDGER_SMTP_URL must be smtp://host:port, not {url!r}")
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.tls = parsed.scheme == "smtps"
        self.user = parsed.username
        self.password = parsed.password
        self.sender = sender
        self.timeout = timeout

    def send(self, mail: OutboxMail) -> None:
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = self.sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        # One failure, one Message-ID: a receiver can tell a resend after a crash for what it is.
        message["Message-ID"] = f"<{mail.id}@chargeledger>"
        message.set_content(mail.body)
        for attachment in mail.attachments:
            maintype, subtype = attachment.content_type.split("/", 1)
            message.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class MailWorker(BackgroundWorker):
    thread_name = "mail"

    def __init__(
        self,
        outbox: MailOutbox,
        mailer: Mailer,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        first_retry_seconds: float = 1.0,
        max_retry_seconds: float = 300.0,
    ) -> None:
        super().__init__(poll_seconds)
        self.outbox = outbox
        self.mailer = mailer
        self.clock = clock
        self.first_retry_seconds = first_retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.sent = 0

    def retry_after(self, attempts: int) -> float:
        return float(min(self.first_retry_seconds * 2 ** max(attempts - 1, 0), self.max_retry_seconds))

    def run_once(self) -> int:
        sent = self.outbox.deliver_due(self.clock.now(), self.mailer.send, self.retry_after)
        self.sent += sent
        return sent

"""Mail is retried until the SMTP server accepts it, and each failure is mailed once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.mail import MailWorker, SmtpMailer
from commands.messages import RecordSession, RegisterCustomer, RegisterEmp, SetAutoTopUp, StorePaymentCard
from domain.aggregates import PaymentCard
from projections.mail_outbox import PostgresMailOutbox
from tests.conftest import free_port
from tests.smtp import SmtpServer


@pytest.fixture
def refusing_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.inbox.refusing = True
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailing_system(fresh_database_url: str, refusing_smtp: SmtpServer) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=4)
    built.start_projections()
    built.start_payment_worker()
    built.start_mail_worker(
        refusing_smtp.url,
        "billing@test.invalid",
        poll_seconds=0.05,
        first_retry_seconds=0.1,
        max_retry_seconds=0.3,
    )
    yield built
    built.close()


def failing_customers(system: System, count: int) -> list[str]:
    services = system.services
    emp = handle(RegisterEmp("Mail EMP", "EUR", 1000, 3000, "test"), services)
    emails = []
    ended = datetime.now(UTC) - timedelta(minutes=5)
    for n in range(count):
        email = f"driver{n}@example.com"
        customer = handle(RegisterCustomer(emp.id, f"Driver {n}", email, "prepaid", None, "t"), services)
        card = PaymentCard("tok_chargeCustomerFail", "visa", "0341", 1, 2031)
        handle(StorePaymentCard(emp.id, customer.id, card, "t"), services)
        handle(SetAutoTopUp(emp.id, customer.id, True, None, None, "t"), services)
        handle(RecordSession(emp.id, f"S{n}", customer.id, ended, ended, 100, 50, None, "t"), services)
        emails.append(email)
    return emails


def wait_until_every_mail_is_sent(system: System, timeout: float = 10.0) -> None:
    """Until no card payment is pending and the outbox holds every failure's mail, all sent:
    a sent mail is never sent again, so no duplicate can arrive after this."""
    deadline = time.monotonic() + timeout
    while True:
        assert system.catch_up(timeout), "the read models never caught up"
        with psycopg.connect(system.database_url) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM card_payments WHERE status = 'pending'),"
                " (SELECT count(*) FROM mail_outbox WHERE status = 'pending')"
            ).fetchone()
        if row == (0, 0):
            return
        assert time.monotonic() < deadline, f"{row} card payments and mails still pending"
        time.sleep(0.02)


def refused_twice(system: System) -> int:
    with psycopg.connect(system.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM mail_outbox WHERE status = 'pending' AND attempts >= 2"
        ).fetchone()
    return int(row[0]) if row else 0


def test_mail_refused_for_a_while_arrives_once_after_recovery(
    mailing_system: System, refusing_smtp: SmtpServer
) -> None:
    emails = failing_customers(mailing_system, 3)
    # Every mail refused at least twice, counted per mail: six refusals in all could be one
    # mail's four and another's two while the third (its customer registered later) had none.
    deadline = time.monotonic() + 10
    while refused_twice(mailing_system) < len(emails):
        assert time.monotonic() < deadline, refusing_smtp.inbox.refused
        time.sleep(0.02)
    assert refusing_smtp.inbox.messages == []

    refusing_smtp.inbox.refusing = False
    for email in emails:
        refusing_smtp.inbox.wait_for(email, timeout=10)
    wait_until_every_mail_is_sent(mailing_system)

    assert sorted(m["To"] for m in refusing_smtp.inbox.messages) == sorted(emails)
    with psycopg.connect(mailing_system.database_url) as conn:
        rows = conn.execute("SELECT status, attempts > 2 FROM mail_outbox").fetchall()
    assert rows == [("sent", True)] * 3


def test_two_mail_workers_never_send_one_mail_twice(
    mailing_system: System, refusing_smtp: SmtpServer
) -> None:
    refusing_smtp.inbox.refusing = False
    second = MailWorker(
        PostgresMailOutbox(mailing_system.pool),
        SmtpMailer(refusing_smtp.url, "billing@test.invalid"),
        mailing_system.services.clock,
        poll_seconds=0.05,
    )
    second.start()
    try:
        emails = failing_customers(mailing_system, 5)
        for email in emails:
            refusing_smtp.inbox.wait_for(email, timeout=10)
        wait_until_every_mail_is_sent(mailing_system)
    finally:
        second.stop()
    assert sorted(m["To"] for m in refusing_smtp.inbox.messages) == sorted(emails)

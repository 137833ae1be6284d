"""The process dies at the worst moment (SIGKILL: no cleanup of any kind) and comes back.

Each test runs `chargeledger serve` as a real process on a fresh database, kills it in the
middle of one piece of work, starts a new process on the same database and lets the work run
again. Throughout, a writer posts charging sessions: every one the service acknowledged must
be there afterwards, once. Nothing may be doubled: one charge per gateway idempotency key, one
credit per payment, one invoice per period, one mail per failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from chargeledger.system import build_system
from commands.handlers import handle
from commands.messages import RegisterCustomer, StartSubscription
from commands.ports import ManualClock
from domain.periods import billing_period
from tests.reliability.crash_serve import (
    AcknowledgedWrites,
    HoldingInbox,
    ServeProcess,
    Tenant,
    create_tenant,
    holding_smtp_server,
    rows,
    serve_process,
    session_body,
    wait_until,
)
from tests.smtp import SmtpServer
from tests.webhook_receiver import Behaviour, Receiver, verified

CARD = {"token": "tok_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
DECLINING_CARD = {**CARD, "token": "tok_chargeCustomerFail", "last4": "0341"}
SUBSCRIPTIONS = 150  # a run long enough to be killed in its middle: several invoices each
LONG_REQUEST = httpx.Timeout(600.0, connect=5.0)


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpServer, HoldingInbox]]:
    server, inbox = holding_smtp_server()
    server.start()
    yield server, inbox
    inbox.holding.clear()
    server.stop()


@pytest.fixture
def served(
    fresh_database_url: str, tmp_path: Path, smtp_server: tuple[SmtpServer, HoldingInbox]
) -> Iterator[ServeProcess]:
    with serve_process(fresh_database_url, tmp_path, smtp_server[0].url) as process:
        yield process


def customer(served: ServeProcess, tenant: Tenant, account_type: str, email: str = "ann@example.com") -> str:
    with served.client(tenant.key) as client:
        created = client.post(
            "/v1/customers", json={"name": "Ann Driver", "email": email, "account_type": account_type}
        )
        assert created.status_code == 201, created.text
        customer_id: str = created.json()["id"]
    return customer_id


def prepaid_with_auto_top_up(served: ServeProcess, tenant: Tenant, card: dict[str, Any], email: str) -> str:
    customer_id = customer(served, tenant, "prepaid", email)
    with served.client(tenant.key) as client:
        stored = client.put(f"/v1/customers/{customer_id}/payment-card", json=card)
        assert stored.status_code == 200, stored.text
        consent = client.put(f"/v1/customers/{customer_id}/auto-top-up", json={"enabled": True})
        assert consent.status_code == 200, consent.text
    return customer_id


def acknowledged_writes(served: ServeProcess, tenant: Tenant) -> AcknowledgedWrites:
    writer = AcknowledgedWrites(served, tenant, customer(served, tenant, "postpaid"))
    writer.start()
    wait_until(lambda: len(writer.acknowledged) >= 3, "the writer's first sessions")
    return writer


def projections_caught_up(served: ServeProcess) -> bool:
    health = httpx.get(f"{served.base_url}/health", timeout=10.0)
    return health.status_code == 200 and all(p["lag"] == 0 for p in health.json()["projections"].values())


def balance(served: ServeProcess, tenant: Tenant, customer_id: str) -> int:
    with served.client(tenant.key) as client:
        value: int = client.get(f"/v1/customers/{customer_id}/balance").json()["balance_minor"]
    return value


def start_postpaid_subscriptions(database_url: str, emp_id: UUID, started_at: datetime, count: int) -> None:
    """Customers and subscriptions that started at `started_at`, written straight through the
    command handlers (quicker than HTTP); the served process's projections pick them up."""
    system = build_system(database_url, pool_size=2, clock=ManualClock(started_at), run_migrations=False)
    try:
        for i in range(count):
            ann = handle(
                RegisterCustomer(emp_id, f"Driver {i}", f"d{i}@example.com", "postpaid", None, "test"),
                system.services,
            )
            handle(StartSubscription(emp_id, ann.id, "BASE-POST", None, "test"), system.services)
    finally:
        system.close()


def test_an_invoice_run_killed_midway_is_finished_by_a_rerun_with_one_invoice_per_period(
    served: ServeProcess,
) -> None:
    served.start()
    tenant = create_tenant(served)
    with served.client(tenant.key) as client:
        package = client.post(
            "/v1/packages",
            json={
                "code": "BASE-POST",
                "name": "Base",
                "kind": "base",
                "recurring": True,
                "payment": "postpaid",
                "price_minor": 1490,
            },
        )
        assert package.status_code == 201, package.text
    as_of = datetime.now(UTC).replace(microsecond=0)
    started_at = as_of - timedelta(days=100, hours=3)
    start_postpaid_subscriptions(served.database_url, UUID(tenant.emp_id), started_at, SUBSCRIPTIONS)
    periods = sum(
        1 for i in range(12) if billing_period(started_at, started_at.day, i, ZoneInfo("UTC")).end <= as_of
    )
    expected = SUBSCRIPTIONS * periods
    wait_until(lambda: projections_caught_up(served), "the projections reading the subscriptions", 120)
    writer = acknowledged_writes(served, tenant)

    # The run is one long synchronous request; kill the process once a fifth of it is done.
    answered: list[Any] = []

    def run_invoice_production() -> None:
        try:
            with served.client(timeout=LONG_REQUEST) as admin:
                answered.append(
                    admin.post("/v1/jobs/invoice-production/runs", json={"as_of": as_of.isoformat()})
                )
        except httpx.TransportError as error:
            answered.append(error)

    run = threading.Thread(target=run_invoice_production, daemon=True)
    run.start()
    wait_until(
        lambda: rows(served.database_url, "SELECT count(*) FROM invoices")[0][0] >= expected // 5 or answered,
        "a fifth of the invoices",
        timeout=300,
    )
    assert not answered, f"the run ended before the kill ({answered}): make it longer"
    served.kill()
    run.join(timeout=30)
    writer.stop()
    assert isinstance(answered[0], httpx.TransportError), answered

    served.start()
    wait_until(lambda: projections_caught_up(served), "the projections after the restart", 120)
    issued_before = rows(served.database_url, "SELECT count(*) FROM invoices")[0][0]
    assert 0 < issued_before < expected
    # The killed run is never reported finished: the restart finds its process's runner lock
    # gone and marks it interrupted; the rerun is what completes the work.
    assert rows(served.database_url, "SELECT status FROM job_runs") == [("interrupted",)]

    with served.client(timeout=LONG_REQUEST) as admin:
        rerun = admin.post("/v1/jobs/invoice-production/runs", json={"as_of": as_of.isoformat()})
        assert rerun.status_code == 200, rerun.text
        assert (rerun.json()["processed"], rerun.json()["failures"]) == (expected - issued_before, 0)
        again = admin.post("/v1/jobs/invoice-production/runs", json={"as_of": as_of.isoformat()})
        assert again.json()["processed"] == 0

    per_period = rows(
        served.database_url,
        "SELECT count(*) FROM invoices GROUP BY subscription_id, period_index HAVING count(*) > 1",
    )
    assert per_period == [], "a period was invoiced twice"
    invoiced = rows(served.database_url, "SELECT subscription_id, count(*) FROM invoices GROUP BY 1")
    assert len(invoiced) == SUBSCRIPTIONS and {count for _, count in invoiced} == {periods}
    sequences = [row[0] for row in rows(served.database_url, "SELECT sequence FROM invoices ORDER BY 1")]
    assert sequences == list(range(1, expected + 1)), "invoice numbers have gaps or repeats"
    writer.assert_all_kept(served)


def test_an_automatic_top_up_killed_after_the_charge_is_completed_once_after_restart(
    served: ServeProcess,
) -> None:
    # The simulated gateway takes a minute after charging: the kill lands between the charge on
    # the card's side and the outcome in the ledger, the window the payment outbox exists for.
    served.start(CHARGELEDGER_SIMULATED_GATEWAY_DELAY_SECONDS="60")
    tenant = create_tenant(served)
    writer = acknowledged_writes(served, tenant)
    ann = prepaid_with_auto_top_up(served, tenant, CARD, "ann@example.com")
    with served.client(tenant.key) as client:
        charged = client.post("/v1/sessions", json=session_body(ann, 600))
        assert charged.status_code == 201, charged.text
    assert charged.json()["balance_minor"] == -600

    wait_until(lambda: rows(served.database_url, "SELECT 1 FROM gateway_charges"), "the card charge")
    assert rows(served.database_url, "SELECT status FROM card_payments") == [("pending",)]
    served.kill()
    writer.stop()

    served.start()  # no delay now: the restarted worker completes the pending payment
    wait_until(lambda: balance(served, tenant, ann) == 2400, "the top-up's credit after the restart")

    charges = rows(served.database_url, "SELECT idempotency_key, amount_minor, approved FROM gateway_charges")
    assert len(charges) == 1 and charges[0][1:] == (3000, True), charges
    assert rows(served.database_url, "SELECT status FROM card_payments") == [("approved",)]
    credits = rows(
        served.database_url,
        "SELECT amount_minor FROM transactions WHERE type = 'top_up' AND customer_id = %s",
        ann,
    )
    assert credits == [(3000,)]
    writer.assert_all_kept(served)


def test_a_payment_failure_mail_killed_in_flight_is_sent_once_after_restart(
    served: ServeProcess, smtp_server: tuple[SmtpServer, HoldingInbox]
) -> None:
    # The SMTP server holds the mail without answering, and the process is killed meanwhile:
    # the server never accepted it (this test's case), so the restarted sender sends it again,
    # and the inbox ends with exactly one. (Killed after the server's 250 and before the outbox
    # row is marked sent, it would arrive twice with one Message-ID: the one window no database
    # transaction can close, and not the case produced here.)
    _, inbox = smtp_server
    inbox.holding.set()
    served.start()
    tenant = create_tenant(served)
    writer = acknowledged_writes(served, tenant)
    ben = prepaid_with_auto_top_up(served, tenant, DECLINING_CARD, "ben@example.com")
    with served.client(tenant.key) as client:
        charged = client.post("/v1/sessions", json=session_body(ben, 600))
        assert charged.status_code == 201, charged.text

    wait_until(lambda: inbox.held == 1, "the failure mail reaching the SMTP server")
    served.kill()
    writer.stop()
    inbox.holding.clear()
    assert rows(served.database_url, "SELECT status, attempts FROM mail_outbox") == [("pending", 0)]
    assert inbox.to("ben@example.com") == []

    served.start()
    wait_until(
        lambda: rows(served.database_url, "SELECT 1 FROM mail_outbox WHERE status = 'sent'"),
        "the mail sent after the restart",
    )
    mails = inbox.to("ben@example.com")
    assert len(mails) == 1, [m["Subject"] for m in mails]
    (mail_id,) = rows(served.database_url, "SELECT id FROM mail_outbox")[0]
    assert mails[0]["Message-ID"] == f"<{mail_id}@chargeledger>"
    # One failure: one declined charge, recorded once, and no new attempt on the restart.
    assert [row[0] for row in rows(served.database_url, "SELECT approved FROM gateway_charges")] == [False]
    assert rows(served.database_url, "SELECT status FROM card_payments") == [("declined",)]
    assert balance(served, tenant, ben) == -600
    writer.assert_all_kept(served)


SELLER = {
    "legal_name": "Volt Ström Oy",
    "vat_id": "FI12345678",
    "address": {"line1": "Mannerheimintie 1", "city": "Helsinki", "postal_code": "00100", "country": "FI"},
}


def test_an_invoice_mail_killed_in_flight_is_sent_once_with_its_pdf_after_restart(
    served: ServeProcess, smtp_server: tuple[SmtpServer, HoldingInbox]
) -> None:
    # As the payment-failure mail above: the SMTP server holds the invoice mail (its PDF
    # attached) unanswered, the mail worker's process is killed meanwhile, and the restarted
    # worker sends it again: one mail in the inbox, under the outbox row's Message-ID.
    _, inbox = smtp_server
    inbox.holding.set()
    served.start()
    tenant = create_tenant(served)
    with served.client() as admin:
        changed = admin.patch(
            f"/v1/emps/{tenant.emp_id}", json={"seller": SELLER, "invoice_delivery": "email"}
        )
        assert changed.status_code == 200, changed.text
    with served.client(tenant.key) as client:
        package = client.post(
            "/v1/packages",
            json={"code": "BASE-POST", "name": "Base", "kind": "base", "recurring": True,
                  "payment": "postpaid", "price_minor": 1490},
        )  # fmt: skip
        assert package.status_code == 201, package.text
    as_of = datetime.now(UTC).replace(microsecond=0)
    start_postpaid_subscriptions(served.database_url, UUID(tenant.emp_id), as_of - timedelta(days=35), 1)
    wait_until(lambda: projections_caught_up(served), "the projections reading the subscription", 60)
    writer = acknowledged_writes(served, tenant)
    with served.client(timeout=LONG_REQUEST) as admin:
        run = admin.post("/v1/jobs/invoice-production/runs", json={"as_of": as_of.isoformat()})
        assert run.status_code == 200 and run.json()["processed"] == 1, run.text

    wait_until(lambda: inbox.held == 1, "the invoice mail reaching the SMTP server")
    served.kill()
    writer.stop()
    inbox.holding.clear()
    assert rows(served.database_url, "SELECT status, attempts FROM mail_outbox") == [("pending", 0)]
    assert inbox.to("d0@example.com") == []

    served.start()
    wait_until(
        lambda: rows(served.database_url, "SELECT 1 FROM mail_outbox WHERE status = 'sent'"),
        "the invoice mail sent after the restart",
    )
    mails = inbox.to("d0@example.com")
    [(number,)] = rows(served.database_url, "SELECT number FROM invoices")
    assert [m["Subject"] for m in mails] == [f"Invoice {number} from Volt Ström Oy"]
    (mail_id,) = rows(served.database_url, "SELECT id FROM mail_outbox")[0]
    assert mails[0]["Message-ID"] == f"<{mail_id}@chargeledger>"
    [attachment] = list(mails[0].iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")
    writer.assert_all_kept(served)


def test_webhook_deliveries_killed_in_flight_are_all_delivered_after_restart(served: ServeProcess) -> None:
    # Some messages are delivered before the kill, some are in flight at the receiver (it holds
    # their answers), the rest wait their turn. After the restart every message arrives, each
    # verifying, each under the one `webhook-id` it had; those in flight may arrive twice.
    receiver = Receiver().start()
    hold = threading.Event()
    receiver.behaviours["/hooks"] = Behaviour(hang=hold)
    try:
        served.start(CHARGELEDGER_ALLOW_INSECURE_OUTBOUND="1")
        tenant = create_tenant(served)
        with served.client(tenant.key) as client:
            created = client.post("/v1/webhook-endpoints", json={"url": f"{receiver.base_url}/hooks"})
            assert created.status_code == 201, created.text
        hook = created.json()
        messages = f"/v1/webhook-endpoints/{hook['id']}/messages"

        def states() -> list[str]:
            with served.client(tenant.key) as client:
                return [item["state"] for item in client.get(messages, params={"limit": 100}).json()["items"]]

        for _ in range(3):
            customer(served, tenant, "postpaid")
        wait_until(lambda: states() == ["delivered"] * 3, "the first deliveries")
        hold.set()
        for _ in range(12):
            customer(served, tenant, "postpaid")
        wait_until(lambda: len(receiver.at("/hooks")) >= 5, "deliveries in flight at the receiver")
        served.kill()
        hold.clear()

        served.start(CHARGELEDGER_ALLOW_INSECURE_OUTBOUND="1")
        wait_until(lambda: states() == ["delivered"] * 15, "every message delivered", timeout=90)
        with served.client(tenant.key) as client:
            feed = client.get("/v1/events", params={"limit": 100}).json()["items"]
        received = receiver.at("/hooks")
        assert len(feed) == 15
        assert {r.webhook_id for r in received} == {item["id"] for item in feed}
        for delivery in received:
            assert verified(delivery, hook["secret"])["type"] == "customer.created"
    finally:
        receiver.stop()

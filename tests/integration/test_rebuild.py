"""Rebuilding every read model from zero arrives at identical tables, row for row; the CLI
verifies, rebuilds and exports the same ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import (
    ChangeCustomer,
    ChangeEmp,
    DefinePackage,
    IssueCreditNote,
    RecordAdjustment,
    RecordInvoicePayment,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    SetAutoTopUp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from commands.payment_worker import PendingPaymentWorker
from commands.ports import ManualClock
from domain.aggregates import PaymentCard
from projections import queries

READ_MODELS = [
    "emps", "customers", "transactions", "sessions", "card_payments", "debits", "packages", "subscriptions",
    "subscription_packages", "invoices", "invoice_payments", "credit_notes", "mail_outbox",
]  # fmt: skip
SELLER = {
    "legal_name": "Rebuild Oy", "vat_id": "FI12345678",
    "address": {"line1": "Katu 1", "city": "Helsinki", "postal_code": "00100", "country": "FI"},
}  # fmt: skip


@pytest.fixture
def billed(fresh_database_url: str) -> Iterator[System]:
    clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    system = build_system(fresh_database_url, pool_size=4, clock=clock)
    system.start_projections()
    do = lambda command: handle(command, system.services)  # noqa: E731
    emp = do(RegisterEmp("Rebuild EMP", "EUR", 1000, 3000, "t", vat_rate_bp=2400)).id
    do(ChangeEmp(emp, {"seller": SELLER, "invoice_delivery": "email"}, "t"))
    do(DefinePackage(emp, "PRE", "Prepaid", "base", True, "prepaid", 500, "t"))
    do(DefinePackage(emp, "POST", "Postpaid", "base", True, "postpaid", 900, "t"))
    for n in range(6):
        kind = "prepaid" if n % 2 else "postpaid"
        customer = do(RegisterCustomer(emp, f"C{n}", f"c{n}@example.com", kind, None, "t")).id
        billing = {"address": {"line1": f"Tie {n}", "city": "Espoo", "postal_code": "02100", "country": "FI"}}
        do(ChangeCustomer(emp, customer, {"billing": billing, "external_ref": f"ref-{n}"}, "t"))
        token = "tok_chargeCustomerFail" if n == 3 else "tok_visa"
        do(StorePaymentCard(emp, customer, PaymentCard(token, "visa", "4242", 1, 2031), "t"))
        if kind == "prepaid":
            do(SetAutoTopUp(emp, customer, True, None, None, "t"))
            if n != 3:
                do(TopUpBalance(emp, customer, 1200, "t"))
        do(StartSubscription(emp, customer, "PRE" if kind == "prepaid" else "POST", None, "t"))
        for s in range(4):
            ended = clock.now() - timedelta(days=s)
            do(
                RecordSession(
                    emp, f"{n}-{s}", customer, ended - timedelta(hours=1), ended, 9000, 333, None, "t"
                )
            )
        do(RecordAdjustment(emp, customer, -7, "rounding", "t"))
    clock.set(datetime(2026, 3, 10, 3, tzinfo=UTC))
    for job in ("recurring-prepayment", "recurring-payment", "invoice-production"):
        system.run_job(job, clock.now(), "t")
    system.catch_up()
    # Invoices paid in part and in full, and credited: payments and credit notes to rebuild.
    invoices = sorted(queries.invoices_page(system.pool, emp, customer_id=None, limit=100, after=0),
                      key=lambda row: row["sequence"])  # fmt: skip
    assert len(invoices) >= 3
    first, second, third = invoices[:3]
    do(RecordInvoicePayment(emp, first["id"], first["total_minor"], clock.now(), "bank 1", "t"))
    do(RecordInvoicePayment(emp, second["id"], 100, clock.now(), "bank 2", "t"))
    do(IssueCreditNote(emp, second["id"], "goodwill", [{"line": 1, "amount_minor": 50}], "t"))
    do(IssueCreditNote(emp, third["id"], "cancelled", None, "t", full=True))
    system.catch_up()
    # Complete the automatic top-ups the debits asked for, then let the read models settle.
    payments = PendingPaymentWorker(
        system.services,
        lambda cutoff: queries.pending_card_payments(system.pool, automatic_only_before=cutoff),
    )
    while payments.run_once():
        system.catch_up()
    system.catch_up()
    yield system
    system.close()


def tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        # Rows in an order of their own: a rebuild may write a table's rows in another order.
        return {
            name: sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in READ_MODELS
        }


def test_a_rebuild_from_zero_gives_identical_tables(billed: System) -> None:
    before = tables(billed.database_url)
    rich = ("transactions", "invoices", "invoice_payments", "credit_notes", "debits", "mail_outbox")
    assert all(before[name] for name in rich), "a rich ledger"

    billed.rebuild()
    assert billed.catch_up()

    after = tables(billed.database_url)
    for name in READ_MODELS:
        assert after[name] == before[name], f"{name} differs after the rebuild"


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHARGELEDGER_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "chargeledger.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_verifies_rebuilds_and_exports(billed: System) -> None:
    url = billed.database_url
    before = tables(url)
    billed.stop_projections()

    verified = cli(url, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("ok: ")

    rebuilt = cli(url, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert tables(url) == before

    [(emp_id,)] = psycopg.connect(url).execute("SELECT id FROM emps").fetchall()
    exported = cli(url, "export", "transactions", "--emp", str(emp_id), "--format", "ndjson")
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == len(before["transactions"])

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE ledger_events SET state = state || ' '::bytea WHERE originator_version = 2")
    tampered = cli(url, "verify")
    assert tampered.returncode == 1
    assert "event-altered" in tampered.stdout

"""Verification proves the log untouched and the read models right, and names what is not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from chargeledger.system import System, build_system
from commands.handlers import handle
from commands.messages import (
    DefinePackage,
    IssueCreditNote,
    RecordInvoicePayment,
    RecordSession,
    RegisterCustomer,
    RegisterEmp,
    StartSubscription,
    StorePaymentCard,
    TopUpBalance,
)
from commands.ports import ManualClock
from domain.aggregates import PaymentCard
from projections import queries
from projections.verification import verify


@pytest.fixture(params=[None, "audit-key"], ids=["sha256", "hmac"])
def ledger(request: pytest.FixtureRequest, fresh_database_url: str) -> Iterator[System]:
    system = build_system(fresh_database_url, pool_size=4, hmac_key=request.param)
    system.start_projections()
    services = system.services
    ended = datetime.now(UTC) - timedelta(hours=2)
    for e in range(2):
        emp = handle(RegisterEmp(f"EMP {e}", "EUR", 1000, 3000, "t"), services).id
        handle(DefinePackage(emp, "BASE", "Base", "base", True, "postpaid", 990, "t"), services)
        for n in range(5):
            customer = handle(
                RegisterCustomer(emp, f"C{n}", f"c{n}@example.com", "prepaid", None, "t"), services
            ).id
            handle(
                StorePaymentCard(emp, customer, PaymentCard("tok_visa", "visa", "4242", 1, 2031), "t"),
                services,
            )
            handle(TopUpBalance(emp, customer, 2000, "t"), services)
            for s in range(3):
                handle(
                    RecordSession(
                        emp, f"{e}-{n}-{s}", customer, ended, ended, 9000, 111 * (s + 1), None, "t"
                    ),
                    services,
                )
        postpaid = handle(RegisterCustomer(emp, "P", "p@example.com", "postpaid", None, "t"), services).id
        handle(StartSubscription(emp, postpaid, "BASE", None, "t"), services)
    system.catch_up()
    yield system
    system.close()


def sql(system: System, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(system.database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def run(system: System, **kwargs: Any) -> Any:
    return verify(system.database_url, key=system.chain_key, **kwargs)


def a_session_event(system: System) -> tuple[Any, int]:
    [(originator_id, version)] = sql(
        system,
        "SELECT originator_id, originator_version FROM ledger_events"
        " WHERE topic = 'chargeledger:Customer.SessionCharged' ORDER BY notification_id LIMIT 1",
    )
    return originator_id, version


def test_an_untouched_ledger_verifies(ledger: System) -> None:
    report = run(ledger)
    assert report.ok, report.problems
    assert report.problems == []
    assert report.streams_checked == len(sql(ledger, "SELECT DISTINCT originator_id FROM ledger_events"))
    assert report.events_checked == sql(ledger, "SELECT count(*) FROM ledger_events")[0][0]


def test_an_altered_event_is_found(ledger: System) -> None:
    originator_id, version = a_session_event(ledger)
    sql(
        ledger,
        "UPDATE ledger_events SET state = convert_to(replace(convert_from(state, 'UTF8'),"
        " '\"amount_minor\":-111', '\"amount_minor\":-11'), 'UTF8')"
        " WHERE originator_id = %s AND originator_version = %s",
        originator_id,
        version,
    )
    report = run(ledger)
    assert not report.ok
    kinds = {(p.stream, p.kind) for p in report.problems}
    assert (str(originator_id), "event-altered") in kinds
    assert (str(originator_id), "balance-arithmetic") in kinds


def test_a_deleted_event_is_found(ledger: System) -> None:
    originator_id, version = a_session_event(ledger)
    sql(
        ledger,
        "DELETE FROM ledger_events WHERE originator_id = %s AND originator_version = %s",
        originator_id,
        version,
    )
    report = run(ledger)
    assert not report.ok
    assert (str(originator_id), "event-deleted") in {(p.stream, p.kind) for p in report.problems}


def test_an_inserted_event_is_found(ledger: System) -> None:
    originator_id, version = a_session_event(ledger)
    sql(
        ledger,
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state)"
        " SELECT originator_id, 1000, topic, state FROM ledger_events"
        " WHERE originator_id = %s AND originator_version = %s",
        originator_id,
        version,
    )
    report = run(ledger)
    kinds = {(p.stream, p.kind) for p in report.problems}
    assert (str(originator_id), "event-unchained") in kinds
    assert (str(originator_id), "missing-events") in kinds


def test_reordered_events_are_found(ledger: System) -> None:
    originator_id, version = a_session_event(ledger)
    sql(
        ledger,
        "UPDATE ledger_events e SET state = o.state, topic = o.topic FROM ledger_events o"
        " WHERE e.originator_id = %s AND o.originator_id = e.originator_id"
        " AND ((e.originator_version = %s AND o.originator_version = %s + 1)"
        " OR (e.originator_version = %s + 1 AND o.originator_version = %s))",
        originator_id, version, version, version, version,
    )  # fmt: skip
    report = run(ledger)
    altered = [p for p in report.problems if p.kind == "event-altered" and p.stream == str(originator_id)]
    assert {p.version for p in altered} == {version, version + 1}


def test_a_wrong_read_model_is_named(ledger: System) -> None:
    [(customer_id,)] = sql(ledger, "SELECT id FROM customers WHERE account_type = 'prepaid' LIMIT 1")
    sql(ledger, "UPDATE customers SET balance_minor = balance_minor + 1 WHERE id = %s", customer_id)
    sql(
        ledger,
        "DELETE FROM transactions WHERE customer_id = %s AND sequence = ("
        "SELECT max(sequence) FROM transactions WHERE customer_id = %s)",
        customer_id,
        customer_id,
    )
    report = run(ledger)
    problems = [p for p in report.problems if p.stream == str(customer_id)]
    assert {p.kind for p in problems} == {"read-model"}
    assert len(problems) == 2


def test_an_auditor_sees_only_the_streams_of_its_emp(ledger: System) -> None:
    emps = [row[0] for row in sql(ledger, "SELECT id FROM emps ORDER BY created_at")]
    originator_id, version = a_session_event(ledger)
    [(owner,)] = sql(ledger, "SELECT emp_id FROM customers WHERE id = %s", originator_id)
    other = next(emp for emp in emps if emp != owner)
    sql(
        ledger,
        "DELETE FROM ledger_events WHERE originator_id = %s AND originator_version = %s",
        originator_id,
        version,
    )

    theirs = run(ledger, emp_id=other)
    mine = run(ledger, emp_id=owner)

    assert theirs.ok and not mine.ok
    assert theirs.streams_checked + mine.streams_checked == run(ledger).streams_checked


@pytest.fixture
def collected(fresh_database_url: str) -> Iterator[System]:
    """Two EMPs' postpaid invoices, paid in part and in full, and credit notes."""
    clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    system = build_system(fresh_database_url, pool_size=4, clock=clock)
    system.start_projections()
    do = lambda command: handle(command, system.services)  # noqa: E731
    emps = []
    for e in range(2):
        emp = do(RegisterEmp(f"EMP {e}", "EUR", 1000, 3000, "t", vat_rate_bp=2400)).id
        emps.append(emp)
        do(DefinePackage(emp, "POST", "Postpaid", "base", True, "postpaid", 900, "t"))
        for n in range(3):
            customer = do(RegisterCustomer(emp, f"P{n}", f"p{n}@example.com", "postpaid", None, "t")).id
            do(StartSubscription(emp, customer, "POST", None, "t"))
            ended = clock.now() + timedelta(hours=1)
            clock.set(ended)
            do(RecordSession(emp, f"{e}-{n}", customer, ended, ended, 9000, 500, None, "t"))
    clock.set(datetime(2026, 2, 10, 3, tzinfo=UTC))
    system.run_job("invoice-production", clock.now(), "t")
    system.catch_up()
    for emp in emps:
        first, second, third = queries.invoices_page(system.pool, emp, customer_id=None, limit=10, after=0)
        do(RecordInvoicePayment(emp, first["id"], first["total_minor"], clock.now(), "bank", "t"))
        do(RecordInvoicePayment(emp, second["id"], 100, clock.now(), "bank", "t"))
        do(IssueCreditNote(emp, second["id"], "goodwill", [{"line": 1, "amount_minor": 50}], "t"))
        do(IssueCreditNote(emp, third["id"], "cancelled", None, "t", full=True))
    system.catch_up()
    yield system
    system.close()


def test_payments_on_invoices_and_credit_notes_verify_and_a_wrong_row_is_named(collected: System) -> None:
    assert run(collected).ok, run(collected).problems
    damaged, untouched = (row[0] for row in sql(collected, "SELECT id FROM emps ORDER BY name"))
    [(paid_invoice, payment_id)] = sql(
        collected,
        "SELECT i.id, p.id FROM invoices i JOIN invoice_payments p ON p.invoice_id = i.id"
        " WHERE i.status = 'paid' AND i.credited_minor = 0 AND i.emp_id = %s",
        damaged,
    )
    [(partly_paid,)] = sql(
        collected,
        "SELECT id FROM invoices WHERE status = 'open' AND credited_minor = 50 AND emp_id = %s",
        damaged,
    )
    [(note_id,)] = sql(
        collected, "SELECT id FROM credit_notes WHERE total_minor = 50 AND emp_id = %s", damaged
    )
    [(full_note,)] = sql(
        collected, "SELECT id FROM credit_notes WHERE total_minor > 50 AND emp_id = %s", damaged
    )

    sql(collected, "UPDATE invoices SET status = 'open' WHERE id = %s", paid_invoice)
    sql(collected, "DELETE FROM invoice_payments WHERE id = %s", payment_id)
    sql(collected, "UPDATE invoices SET credited_minor = 49 WHERE id = %s", partly_paid)
    sql(collected, "UPDATE credit_notes SET total_minor = 51 WHERE id = %s", note_id)
    sql(collected, "DELETE FROM credit_notes WHERE id = %s", full_note)
    sql(
        collected,
        "INSERT INTO invoice_payments (id, invoice_id, emp_id, amount_minor, paid_at, reference, recorded_at)"
        " SELECT gen_random_uuid(), id, emp_id, 1, now(), 'forged', now() FROM invoices WHERE id = %s",
        partly_paid,
    )
    report = run(collected)

    named = {(p.stream, p.kind) for p in report.problems}
    assert not report.ok
    assert (str(paid_invoice), "read-model") in named  # its status, and its payment's row gone
    assert (str(partly_paid), "read-model") in named  # credited 49 of 50, and a forged payment
    assert (str(note_id), "read-model") in named and (str(full_note), "read-model") in named
    details = " ".join(p.detail for p in report.problems)
    assert "forged" not in details and "has no PaymentRecorded event" in details
    assert "is missing from credit_notes" in details and "is missing from invoice_payments" in details
    theirs = run(collected, emp_id=untouched)
    assert theirs.ok, theirs.problems  # the other EMP's are untouched

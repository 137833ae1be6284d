"""The demo runs end to end on a small scale and its summary adds up."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg

from chargeledger.demo import run_demo
from chargeledger.system import build_system
from projections import queries
from projections.documents.model import credit_note_document, invoice_document
from projections.documents.ubl import ubl_document
from tests.peppol.validator import fatal_problems


def test_a_small_demo_runs_and_summarises(fresh_database_url: str) -> None:
    system = build_system(fresh_database_url, pool_size=4)
    system.start_projections()
    out = io.StringIO()
    try:
        summary = run_demo(system, customers=16, days=35, seed=3, out=out)
    finally:
        system.close()
    assert summary["customers"] == 16
    assert summary["sessions"] > 50
    assert summary["invoices"] > 0 and summary["debits"] > 0
    assert summary["mails_queued"] <= summary["failed_payments"]
    with psycopg.connect(fresh_database_url) as conn:  # on a test clock, moved to the last day
        (clock,) = conn.execute(
            "SELECT test_clock_now FROM emps WHERE id = %s", (summary["emp_id"],)
        ).fetchone()
    assert datetime.now(UTC) - timedelta(days=2) < clock <= datetime.now(UTC)
    text = out.getvalue()
    assert "chargeledger demo summary" in text and "support key              clk_" in text


def test_the_demos_invoices_and_credit_notes_pass_the_peppol_rules(fresh_database_url: str) -> None:
    """Every invoice and credit note of a small demo, as its UBL e-invoice: the UBL 2.1 schema,
    the EN 16931 and the Peppol rules (tests/peppol), with no fatal assertion."""
    system = build_system(fresh_database_url, pool_size=4)
    system.start_projections()
    try:
        summary = run_demo(system, customers=12, days=40, seed=5, out=io.StringIO())
        emp = UUID(summary["emp_id"])
        invoices = queries.invoices_page(system.pool, emp, customer_id=None, limit=500, after=0)
        notes = queries.credit_notes_page(system.pool, emp, customer_id=None, limit=500, after=0)
        documents = [invoice_document(system.pool, row["id"], emp) for row in invoices]
        documents += [credit_note_document(system.pool, row["id"], emp) for row in notes]
    finally:
        system.close()
    assert summary["invoices"] == len(invoices) >= 4 and summary["credit_notes"] == len(notes) >= 2
    assert summary["invoices_paid"] >= 1
    for doc in documents:
        assert doc is not None
        assert fatal_problems(ubl_document(doc)) == [], doc.number

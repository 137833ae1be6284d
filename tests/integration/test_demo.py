"""The demo runs end to end on a small scale and its summary adds up."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import psycopg

from chargeledger.demo import run_demo
from chargeledger.system import build_system


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

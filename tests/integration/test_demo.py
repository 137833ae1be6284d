"""The demo runs end to end on a small scale and its summary adds up."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from chargeledger.demo import run_demo
from chargeledger.system import build_system
from commands.ports import ManualClock


def test_a_small_demo_runs_and_summarises(fresh_database_url: str) -> None:
    clock = ManualClock(datetime.now(UTC) - timedelta(days=40))
    system = build_system(fresh_database_url, pool_size=4, clock=clock)
    system.start_projections()
    out = io.StringIO()
    try:
        summary = run_demo(system, clock, customers=16, days=35, seed=3, out=out)
    finally:
        system.close()
    assert summary["customers"] == 16
    assert summary["sessions"] > 50
    assert summary["invoices"] > 0 and summary["debits"] > 0
    assert summary["mails_queued"] <= summary["failed_payments"]
    text = out.getvalue()
    assert "chargeledger demo summary" in text and "support key              clk_" in text

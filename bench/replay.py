"""Replay: events per second of rebuilding every read model from the first event, and of full
verification, on a log of 1,000,000 events (targets: rebuild >= 50,000/s, verification
>= 100,000/s)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import drop_database, fresh_database
from chargeledger.system import build_system
from commands.handlers import handle
from commands.messages import RegisterCustomer, RegisterEmp
from projections.verification import verify

EVENTS_PER_CUSTOMER = 2000


def fill(url: str, events: int) -> int:
    """A log of about `events` events: customers with long session histories."""
    system = build_system(url, pool_size=2, run_migrations=False)
    written = 0
    try:
        emp = handle(RegisterEmp("Replay EMP", "EUR", 1000, 3000, "bench"), system.services).id
        start = datetime(2025, 1, 1, tzinfo=UTC)
        while written < events:
            customer_id = handle(
                RegisterCustomer(emp, "Driver", "d@example.com", "prepaid", None, "bench"), system.services
            ).id
            customer: Any = system.ledger.repository.get(customer_id)
            for n in range(min(EVENTS_PER_CUSTOMER, events - written) - 1):
                at = start + timedelta(minutes=n)
                customer.charge_session(
                    session_id=f"{customer_id}-{n}", started_at=at, ended_at=at, energy_wh=5000, cost_minor=3,
                    location=None, now=at, caused_by="bench",
                )  # fmt: skip
                if len(customer.pending_events) == 1000:
                    system.ledger.save(customer)
            system.ledger.save(customer)
            written = system.ledger.recorder.max_notification_id() or 0
            if written // 100_000 != (written - EVENTS_PER_CUSTOMER) // 100_000:
                print(f"    {written:,} events written", flush=True)
    finally:
        system.close()
    return written


def measure(server: str, events: int | None = None) -> dict[str, Any]:
    events = events or int(os.environ.get("BENCH_REPLAY_EVENTS", "1000000"))
    url = fresh_database(server)
    try:
        started = time.perf_counter()
        total = fill(url, events)
        print(f"  wrote {total:,} events in {time.perf_counter() - started:.0f} s", flush=True)

        system = build_system(url, pool_size=4, run_migrations=False)
        try:
            # Unmeasured: the asynchronous projections follow the log, as in a running service
            # (the webhooks' outbox among them, which a rebuild keeps and only catches up).
            system.catch_up_projections()
            started = time.perf_counter()
            system.rebuild()
            rebuild_seconds = time.perf_counter() - started
        finally:
            system.close()
        print(f"  rebuild of every read model: {total / rebuild_seconds:,.0f} events/s", flush=True)

        started = time.perf_counter()
        report = verify(url, key=None)
        verify_seconds = time.perf_counter() - started
        assert report.ok, report.problems[:3]
        print(f"  verification: {report.events_checked / verify_seconds:,.0f} events/s", flush=True)
        return {
            "events": total,
            "rebuild_per_second": total / rebuild_seconds,
            "verify_per_second": report.events_checked / verify_seconds,
        }
    finally:
        drop_database(server, url)

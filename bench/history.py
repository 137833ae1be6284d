"""History growth: the latency of recording a session for customers with 10, 1,000 and 10,000
prior events. Snapshots and the aggregate cache should keep it flat (target ratio <= 1.1)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from bench.harness import drop_database, fresh_database
from bench.served import emp_with_customers, serve
from chargeledger.system import build_system

SIZES = (10, 1_000, 10_000)
SAMPLES = 200


def grow_history(url: str, customer_id: UUID, events: int) -> None:
    """Give a customer `events` prior session events, saved in chunks like a busy day would."""
    system = build_system(url, pool_size=2, run_migrations=False)
    try:
        ledger = system.ledger
        ended = datetime(2026, 1, 1, tzinfo=UTC)
        remaining = events - ledger.repository.get(customer_id).version
        while remaining > 0:
            customer: Any = ledger.repository.get(customer_id)
            for _ in range(min(500, remaining)):
                at = ended + timedelta(minutes=customer.version)  # each charge moves the version on
                customer.charge_session(
                    session_id=f"history-{customer_id}-{customer.version}", started_at=at, ended_at=at,
                    energy_wh=1000, cost_minor=1, location=None, now=at, caused_by="bench",
                )  # fmt: skip
            remaining -= len(customer.pending_events)
            ledger.save(customer)
    finally:
        system.close()


def latencies(base_url: str, key: str, customer_ids: list[str]) -> dict[str, list[float]]:
    """SAMPLES sequential sessions per customer, taking the customers in turn, so that the
    machine's own drift from minute to minute weighs on every history size alike."""
    timings: dict[str, list[float]] = {customer_id: [] for customer_id in customer_ids}
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for n in range(SAMPLES):
            for customer_id in customer_ids:
                body = {"session_id": f"probe-{customer_id}-{n}", "customer_id": customer_id,
                        "started_at": "2026-02-01T10:00:00Z", "ended_at": "2026-02-01T10:30:00Z",
                        "energy_wh": 9000, "cost_minor": 100}  # fmt: skip
                started = time.perf_counter()
                response = client.post("/v1/sessions", json=body)
                timings[customer_id].append((time.perf_counter() - started) * 1000)
                if response.status_code != 201:
                    raise RuntimeError(response.text)
    return timings


def measure(server: str) -> dict[str, Any]:
    url = fresh_database(server)
    served = serve(url)
    try:
        key, ids = emp_with_customers(served.base_url, len(SIZES), "prepaid")
        for customer_id, size in zip(ids, SIZES, strict=True):
            grow_history(url, UUID(customer_id), size)
        timings = latencies(served.base_url, key, ids)
        results = {}
        for customer_id, size in zip(ids, SIZES, strict=True):
            samples = timings[customer_id]
            results[size] = {"p50_ms": statistics.median(samples),
                             "p99_ms": statistics.quantiles(samples, n=100)[98]}  # fmt: skip
            print(f"  {size:>6,} prior events: p50 {results[size]['p50_ms']:.2f} ms,"
                  f" p99 {results[size]['p99_ms']:.2f} ms", flush=True)  # fmt: skip
        ratio = results[SIZES[-1]]["p50_ms"] / results[SIZES[0]]["p50_ms"]
        return {"by_size": results, "ratio": ratio}
    finally:
        served.stop()
        drop_database(server, url)

"""Bulk ingestion: sessions per second through POST /v1/sessions/batch with batches of 500 (an
EMP importing its history, a CPO's CDR file), from two concurrent clients (target >= 10,000/s)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import httpx

from bench.harness import drop_database, fresh_database
from bench.served import emp_with_customers, serve

BATCH = 500
CLIENTS = 2
SECONDS = 10.0


def batch_body(ids: list[str], prefix: str, start: int, rng: random.Random) -> dict[str, Any]:
    return {
        "sessions": [
            {
                "session_id": f"{prefix}-{start + n}",
                "customer_id": rng.choice(ids),
                "started_at": "2026-01-01T10:00:00Z",
                "ended_at": "2026-01-01T10:45:00Z",
                "energy_wh": 12_500,
                "cost_minor": 100 + n % 900,
            }
            for n in range(BATCH)
        ]
    }


def measure(server: str, customers: int = 1000) -> dict[str, Any]:
    url = fresh_database(server)
    served = serve(url)
    try:
        key, ids = emp_with_customers(served.base_url, customers)
        recorded = [0] * CLIENTS
        refused = [0] * CLIENTS
        deadline = [0.0]

        def client(number: int, seconds: float) -> None:
            rng = random.Random(number)
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as http:
                sent = 0
                while time.perf_counter() < deadline[0]:
                    body = batch_body(ids, f"bulk-{number}-{seconds}", sent, rng)
                    answer = http.post("/v1/sessions/batch", json=body)
                    answer.raise_for_status()
                    statuses = [result["status"] for result in answer.json()["results"]]
                    recorded[number] += statuses.count(201)
                    refused[number] += len(statuses) - statuses.count(201)
                    sent += BATCH

        def run(seconds: float) -> float:
            for n in range(CLIENTS):
                recorded[n] = refused[n] = 0
            started = time.perf_counter()
            deadline[0] = started + seconds
            threads = [threading.Thread(target=client, args=(n, seconds)) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return sum(recorded) / (time.perf_counter() - started)

        run(2.0)  # unmeasured: every customer read once
        per_second = run(SECONDS)
        print(f"  bulk: {per_second:,.0f} sessions/s in batches of {BATCH}", flush=True)
        return {"per_second": per_second, "batch": BATCH, "clients": CLIENTS, "refused": sum(refused)}
    finally:
        served.stop()
        drop_database(server, url)

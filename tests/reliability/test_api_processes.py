"""`chargeledger serve` with several API processes (CHARGELEDGER_API_WORKERS=2): each records
commands and answers reads, the serving process projects; a read sent after a write's answer
reflects that write, whichever process takes either request."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.reliability.crash_serve import (
    ServeProcess,
    Tenant,
    create_tenant,
    serve_process,
    session_body,
    wait_until,
)

WRITERS = 6
SESSIONS_EACH = 15


@pytest.fixture
def served(fresh_database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    with serve_process(fresh_database_url, tmp_path) as process:
        process.start(CHARGELEDGER_API_WORKERS="2")
        yield process


def postpaid_customer(served: ServeProcess, tenant: Tenant, n: int) -> str:
    body = {"name": f"Driver {n}", "email": f"d{n}@example.com", "account_type": "postpaid"}
    with served.client(tenant.key) as client:
        response = client.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def api_processes(serving_pid: int) -> list[psutil.Process]:
    """The serving process's live uvicorn worker processes. Other children come and go (a short
    subprocess that has exited but is not yet reaped is a zombie, without a command line)."""
    found = []
    for child in psutil.Process(serving_pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return found


def test_several_api_processes_read_their_writes(served: ServeProcess) -> None:
    assert served.process is not None
    serving_pid = served.process.pid
    # /health answers once one API process is up; the other may still be starting.
    wait_until(lambda: len(api_processes(serving_pid)) == 2, "two API processes")

    tenant = create_tenant(served)
    customers = [postpaid_customer(served, tenant, n) for n in range(3)]
    headers = {"Authorization": f"Bearer {tenant.key}"}

    def write_and_read(writer: int) -> list[tuple[str, int]]:
        charged: list[tuple[str, int]] = []
        for n in range(SESSIONS_EACH):
            customer_id = customers[(writer + n) % len(customers)]
            cost = 100 + writer * 100 + n
            # A new connection for every request: the kernel hands each to either process.
            with httpx.Client(base_url=served.base_url, headers=headers, timeout=30) as client:
                answer = client.post("/v1/sessions", json=session_body(customer_id, cost))
            assert answer.status_code == 201, answer.text
            with httpx.Client(base_url=served.base_url, headers=headers, timeout=30) as client:
                read = client.get(f"/v1/customers/{customer_id}/balance")
            assert read.status_code == 200, read.text
            # Others charge the same customers meanwhile: the balance read may be lower than the
            # one answered, never higher (that would be a read from before the write).
            assert read.json()["balance_minor"] <= answer.json()["balance_minor"]
            charged.append((customer_id, cost))
        return charged

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        charged = [item for items in pool.map(write_and_read, range(WRITERS)) for item in items]

    with served.client(tenant.key) as client:
        for customer_id in customers:
            costs = [cost for charged_id, cost in charged if charged_id == customer_id]
            balance: dict[str, Any] = client.get(f"/v1/customers/{customer_id}/balance").json()
            assert balance["balance_minor"] == -sum(costs)
            page = client.get(f"/v1/customers/{customer_id}/transactions", params={"limit": 500}).json()
            assert sorted(-item["amount_minor"] for item in page["items"]) == sorted(costs)
        health = client.get("/health")
    assert health.status_code == 200, health.text

"""A `chargeledger serve` process for benchmarks, and the HTTP set-up of an EMP with customers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psutil

ADMIN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str

    @property
    def psutil(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def serve(database_url: str, extra_env: dict[str, str] | None = None) -> Served:
    port = free_port()
    env = {
        **os.environ,
        "CHARGELEDGER_DATABASE_URL": database_url,
        "CHARGELEDGER_ADMIN_TOKEN": ADMIN,
        "CHARGELEDGER_SCHEDULE_RECURRING_PREPAYMENT": "off",
        "CHARGELEDGER_SCHEDULE_RECURRING_PAYMENT": "off",
        "CHARGELEDGER_SCHEDULE_INVOICE_PRODUCTION": "off",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chargeledger.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, base_url, "chargeledger serve")
    return Served(process, base_url)


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, what: str) -> None:
    """Until GET /health answers 200; a process that exits or takes a minute is killed."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"{what} did not become healthy")
        time.sleep(0.1)


def emp_with_customers(base_url: str, count: int, account_type: str = "postpaid") -> tuple[str, list[str]]:
    """An EMP, its emp key, and `count` customers (a prepaid one gets a card and a balance)."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as admin:
        emp = admin.post("/v1/emps", json={"name": "Bench EMP", "currency": "EUR"}).json()
        key = admin.post(f"/v1/emps/{emp['id']}/api-keys", json={"role": "emp"}).json()["key"]
    ids: list[str] = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for n in range(count):
            body: dict[str, Any] = {
                "name": f"Driver {n}",
                "email": f"d{n}@example.com",
                "account_type": account_type,
            }
            ids.append(client.post("/v1/customers", json=body).json()["id"])
    return key, ids

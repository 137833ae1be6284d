"""`chargeledger serve` as a real process for crash and outage tests: started on a free port,
killed with SIGKILL (nothing runs after it: no finally, no atexit), restarted on the same
database; plus an SMTP server that can hold a mail in flight, and a writer that remembers
every write the service acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiosmtpd.controller import Controller

from tests.conftest import ADMIN_TOKEN, free_port
from tests.smtp import Inbox, SmtpServer

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 90.0
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
SCHEDULER_OFF = {
    f"CHARGELEDGER_SCHEDULE_{job}": "off"
    for job in ("RECURRING_PREPAYMENT", "RECURRING_PAYMENT", "INVOICE_PRODUCTION")
}


class ServeProcess:
    """One `python -m chargeledger.cli serve` at a time on one database; `start` again after
    `kill` is the restart (a new process, a new port)."""

    def __init__(self, database_url: str, workdir: Path, smtp_url: str | None = None) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.smtp_url = smtp_url
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.kills = 0
        self.log_path = workdir / "serve-0.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> None:
        assert self.process is None, "already running"
        self.starts += 1
        self.port = free_port()
        self.log_path = self.workdir / f"serve-{self.starts}.log"
        env = {
            **os.environ,
            **SCHEDULER_OFF,
            "CHARGELEDGER_DATABASE_URL": self.database_url,
            "CHARGELEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "CHARGELEDGER_DATA_DIR": str(self.workdir / "data"),
            "CHARGELEDGER_POOL_SIZE": "6",
            **({"CHARGELEDGER_SMTP_URL": self.smtp_url} if self.smtp_url else {}),
            **extra_env,
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chargeledger.cli", "serve", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_until_healthy()

    def wait_until_healthy(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve was not healthy within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.kills += 1
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self.process = None

    def client(self, token: str = ADMIN_TOKEN, timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def serve_process(database_url: str, workdir: Path, smtp_url: str | None = None) -> Iterator[ServeProcess]:
    served = ServeProcess(database_url, workdir, smtp_url)
    try:
        yield served
    finally:
        served.stop()


def rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def wait_until(condition: Any, what: str, timeout: float = 30.0, every: float = 0.05) -> Any:
    """Poll until `condition()` is truthy (and return it); fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)
    return value


@dataclass
class Tenant:
    emp_id: str
    key: str


def create_tenant(served: ServeProcess) -> Tenant:
    with served.client() as admin:
        emp = admin.post("/v1/emps", json={"name": f"EMP {uuid.uuid4().hex[:6]}", "currency": "EUR"})
        assert emp.status_code == 201, emp.text
        key = admin.post(f"/v1/emps/{emp.json()['id']}/api-keys", json={"role": "emp"})
        assert key.status_code == 201, key.text
    return Tenant(emp.json()["id"], key.json()["key"])


def session_body(customer_id: str, cost: int) -> dict[str, Any]:
    ended = datetime.now(UTC) - timedelta(minutes=1)
    return {
        "session_id": f"S-{uuid.uuid4().hex[:12]}",
        "customer_id": customer_id,
        "started_at": (ended - timedelta(minutes=30)).isoformat(),
        "ended_at": ended.isoformat(),
        "energy_wh": 5_000,
        "cost_minor": cost,
    }


@dataclass
class AcknowledgedWrites:
    """Charging sessions posted one after another for one postpaid customer, from a thread,
    while something else is going on. Only a 2xx counts as acknowledged: those must survive."""

    served: ServeProcess
    tenant: Tenant
    customer_id: str
    acknowledged: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="acknowledged-writes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            assert not self._thread.is_alive(), "the writer hung"

    def _run(self) -> None:
        with self.served.client(self.tenant.key, timeout=httpx.Timeout(10.0, connect=2.0)) as client:
            for cost in range(100, 100_000):
                if self._stop.is_set():
                    return
                body = session_body(self.customer_id, cost)
                try:
                    response = client.post("/v1/sessions", json=body)
                except httpx.TransportError:
                    self.unanswered += 1  # killed mid-request: may or may not be recorded
                    self._stop.wait(0.05)
                    continue
                if response.status_code == 201:
                    self.acknowledged[body["session_id"]] = cost

    def assert_all_kept(self, served: ServeProcess) -> None:
        """Every acknowledged session is recorded once; anything recorded is in the balance."""
        items: list[dict[str, Any]] = []
        cursor = None
        with served.client(self.tenant.key) as client:
            while True:
                params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                page = client.get(f"/v1/customers/{self.customer_id}/transactions", params=params)
                assert page.status_code == 200, page.text
                items += page.json()["items"]
                if (cursor := page.json()["next_cursor"]) is None:
                    break
            balance = client.get(f"/v1/customers/{self.customer_id}/balance").json()["balance_minor"]
        recorded = [item["reference"] for item in items if item["type"] == "session"]
        assert len(recorded) == len(set(recorded)), "a session was charged twice"
        lost = set(self.acknowledged) - set(recorded)
        assert not lost, f"{len(lost)} acknowledged sessions were lost"
        assert balance == sum(item["amount_minor"] for item in items)


class HoldingInbox(Inbox):
    """An SMTP handler that, while `holding`, keeps the client waiting for the answer to DATA
    (the mail is not accepted) and then refuses it: a sender killed meanwhile never learns of
    an acceptance."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.held = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.holding.is_set():
            with self.lock:
                self.held += 1
            while self.holding.is_set():
                await asyncio.sleep(0.02)
            return "421 4.3.0 The sender went away before it was answered"
        return await super().handle_DATA(server, session, envelope)


def holding_smtp_server() -> tuple[SmtpServer, HoldingInbox]:
    server = SmtpServer(free_port())
    inbox = HoldingInbox()
    server.inbox = inbox
    server.controller = Controller(inbox, hostname="127.0.0.1", port=server.controller.port)
    return server, inbox

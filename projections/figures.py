"""The ledger's business figures as the read models hold them (every process's work), for
the Prometheus metrics: read when scraped."""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg_pool import ConnectionPool


@dataclass
class Figures:
    sessions: int = 0
    card_payments: dict[tuple[str, str], int] = field(default_factory=dict)  # (purpose, status)
    invoices: dict[str, tuple[int, int]] = field(default_factory=dict)  # currency -> (count, total)
    debits: dict[str, int] = field(default_factory=dict)  # status
    outboxes: dict[str, int] = field(default_factory=dict)  # outbox -> items waiting
    job_runs: dict[tuple[str, str], int] = field(default_factory=dict)  # (job, status)


def read_figures(pool: ConnectionPool) -> Figures:
    figures = Figures()
    with pool.connection(timeout=2.0) as conn:
        row = conn.execute("SELECT count(*) FROM sessions").fetchone()
        figures.sessions = int(row[0]) if row else 0
        for purpose, status, count in conn.execute(
            "SELECT purpose, status, count(*) FROM card_payments GROUP BY purpose, status"
        ):
            figures.card_payments[(purpose, status)] = count
        for currency, count, total in conn.execute(
            "SELECT trim(currency), count(*), coalesce(sum(total_minor), 0) FROM invoices GROUP BY currency"
        ):
            figures.invoices[currency] = (count, int(total))
        for status, count in conn.execute("SELECT status, count(*) FROM debits GROUP BY status"):
            figures.debits[status] = count
        for outbox, count in conn.execute(
            "SELECT 'mail', count(*) FROM mail_outbox WHERE status = 'pending'"
            " UNION ALL SELECT 'webhooks', count(*) FROM webhook_deliveries WHERE state = 'pending'"
            " UNION ALL SELECT 'card_payments', count(*) FROM card_payments WHERE status = 'pending'"
        ):
            figures.outboxes[outbox] = count
        for job, status, count in conn.execute(
            "SELECT job, status, count(*) FROM job_runs GROUP BY job, status"
        ):
            figures.job_runs[(job, status)] = count
    return figures

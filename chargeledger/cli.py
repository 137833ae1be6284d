"""The `chargeledger` command: migrate, serve, project, schedule."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from uuid import UUID

from chargeledger.admin_token import load_or_create_admin_token
from chargeledger.config import Settings
from chargeledger.database import resolve_database_url
from chargeledger.logs import configure_logging
from chargeledger.system import build_system
from migrations import migrate
from scheduler.schedule import schedules_from_env

logger = logging.getLogger("chargeledger")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargeledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending database migrations")
    serve = commands.add_parser("serve", help="serve the API with projections in-process")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API processes (default: CHARGELEDGER_API_WORKERS, else 1: everything in one process)",
    )
    commands.add_parser("project", help="run the projections, the card-payment and mail workers (no API)")
    commands.add_parser("schedule", help="run the batch-job scheduler alone (one leader acts)")
    verify_parser = commands.add_parser("verify", help="check every stream's hash chain and every read model")
    verify_parser.add_argument("--emp", type=UUID, default=None, help="only this EMP's streams")
    commands.add_parser("rebuild", help="rebuild every read model from the first event")
    export = commands.add_parser("export", help="export an EMP's sessions or transactions")
    export.add_argument("kind", choices=["sessions", "transactions"])
    export.add_argument("--emp", type=UUID, required=True)
    export.add_argument("--from", dest="start", default=None, help="RFC 3339 instant, inclusive")
    export.add_argument("--to", dest="end", default=None, help="RFC 3339 instant, exclusive")
    export.add_argument("--format", choices=["csv", "ndjson"], default="csv")
    export.add_argument("--output", default="-", help="file to write (default: standard output)")
    demo = commands.add_parser("demo", help="simulate months of charging and billing, then summarise")
    demo.add_argument("--customers", type=int, default=200)
    demo.add_argument("--days", type=int, default=90)
    demo.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    configure_logging()
    try:
        settings = Settings.from_env()
    except ValueError as error:  # a setting that means nothing: stop before anything starts
        print(f"chargeledger: {error}", file=sys.stderr)
        return 2
    database_url = resolve_database_url(settings.database_url, settings.data_dir)
    if args.command == "migrate":
        applied = migrate(database_url)
        print(f"migrations applied: {', '.join(applied) if applied else 'none pending'}")
        return 0
    if args.command == "serve":
        workers = args.workers if args.workers is not None else settings.api_workers
        if workers < 1:
            parser.error("--workers must be at least 1")
        return _serve(settings, database_url, args.host, args.port, workers)
    if args.command == "project":
        return _project(settings, database_url)
    if args.command == "schedule":
        return _schedule(settings, database_url)
    if args.command == "verify":
        return _verify(settings, database_url, args.emp)
    if args.command == "rebuild":
        return _rebuild(settings, database_url)
    if args.command == "export":
        return _export(settings, database_url, args)
    if args.command == "demo":
        return _demo(settings, database_url, args.customers, args.days, args.seed)
    return 2


def _serve(settings: Settings, database_url: str, host: str, port: int, workers: int) -> int:
    import uvicorn

    from api.app import create_app
    from chargeledger.serving import LOG_FORMATTER, SERVE_DATABASE_URL, api_context

    token, generated = load_or_create_admin_token(settings.admin_token, settings.data_dir)
    system = build_system(database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key)
    system.start_projections()
    system.start_payment_worker()
    system.start_mail_worker(settings.smtp_url, settings.mail_from)
    system.start_webhook_worker(allow_insecure=settings.allow_insecure_outbound)
    system.start_scheduler(schedules_from_env())
    print(f"chargeledger serving on http://{host}:{port}  (OpenAPI: http://{host}:{port}/schema)")
    if generated:
        print(f"admin key (shown once, kept in {settings.data_dir / 'admin_token'}): {token}")
    elif not settings.admin_token:
        print(f"admin key: in {settings.data_dir / 'admin_token'}")
    if workers > 1:
        print(f"{workers} API processes; projections, payments, mail and the scheduler in this one")
    sys.stdout.flush()
    try:
        if workers > 1:
            # The API processes inherit the resolved database and the admin key.
            os.environ[SERVE_DATABASE_URL] = database_url
            os.environ["CHARGELEDGER_ADMIN_TOKEN"] = token
            uvicorn.run(
                "chargeledger.serving:api_process_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
            )
        else:
            ctx = api_context(system, settings, token, database_url)
            # Sessions already queued are recorded before the system closes.
            app = create_app(ctx, log_formatter=LOG_FORMATTER, on_shutdown=[ctx.session_batcher.stop])
            uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        system.close()
    return 0


def _project(settings: Settings, database_url: str) -> int:
    system = build_system(database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key)
    system.start_projections()
    system.start_payment_worker()
    system.start_mail_worker(settings.smtp_url, settings.mail_from)
    system.start_webhook_worker(allow_insecure=settings.allow_insecure_outbound)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logger.info("projections running", extra={"projections": [runner.name for runner in system.runners]})
    stop.wait()
    system.close()
    return 0


def _schedule(settings: Settings, database_url: str) -> int:
    system = build_system(database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key)
    schedules = schedules_from_env()
    logger.info("scheduler starting", extra={"schedules": schedules})
    try:
        system.start_scheduler(schedules, blocking=True)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        system.close()
    return 0


def _verify(settings: Settings, database_url: str, emp_id: UUID | None) -> int:
    from chargeledger.demo import ProgressBar
    from projections.verification import verify

    migrate(database_url)
    total = _event_count(database_url)
    bar = ProgressBar(max(total // 5000, 1), sys.stderr)
    done = [0]

    def progress(events: int) -> None:
        while done[0] < min(events // 5000, bar.total):
            done[0] += 1
            bar.step(f"{events} events")

    key = settings.hmac_key.encode() if settings.hmac_key else None
    report = verify(database_url, key=key, emp_id=emp_id, progress=progress)
    while done[0] < bar.total:
        done[0] += 1
        bar.step(f"{report.events_checked} events")
    print(
        f"{'ok' if report.ok else 'PROBLEMS FOUND'}: {report.streams_checked} streams,"
        f" {report.events_checked} events checked"
    )
    for problem in report.problems:
        print(f"  {problem.kind}: stream {problem.stream} version {problem.version}: {problem.detail}")
    return 0 if report.ok else 1


def _event_count(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def _rebuild(settings: Settings, database_url: str) -> int:
    system = build_system(database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key)
    try:
        read = system.rebuild()
        print(f"read models rebuilt from {read} events, to log position {system.head()}")
    finally:
        system.close()
    return 0


def _export(settings: Settings, database_url: str, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from psycopg_pool import ConnectionPool

    from api.instants import parse_instant
    from projections.exports import export

    start = parse_instant(args.start, "from") or datetime(1970, 1, 1, tzinfo=UTC)
    end = parse_instant(args.end, "to") or datetime.now(UTC)
    with ConnectionPool(database_url, min_size=1, max_size=1, kwargs={"options": "-c timezone=UTC"}) as pool:
        chunks, _ = export(pool, args.kind, args.emp, start, end, args.format)
        target = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")  # noqa: SIM115
        try:
            for chunk in chunks:
                target.write(chunk)
        finally:
            if target is not sys.stdout.buffer:
                target.close()
            else:
                target.flush()
    return 0


def _demo(settings: Settings, database_url: str, customers: int, days: int, seed: int) -> int:
    from chargeledger.demo import run_demo

    logging.getLogger("commands.jobs").setLevel(logging.WARNING)  # the progress bar tells the story
    system = build_system(database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key)
    system.start_projections()
    system.start_mail_worker(settings.smtp_url, settings.mail_from)
    try:
        run_demo(system, customers=customers, days=days, seed=seed)
    finally:
        system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

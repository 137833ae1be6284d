"""The `chargeledger` command: serve the ledger, run its background work, and look after it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

import psycopg
import uvicorn

from chargeledger.admin_token import load_or_create_admin_token
from chargeledger.config import Settings
from chargeledger.database import ConnectionParams, resolve_database_url
from chargeledger.logs import configure_logging
from chargeledger.system import build_system
from domain.errors import DomainError
from migrations import migrate
from migrations.runner import MigrationError
from scheduler.schedule import schedules_from_env

logger = logging.getLogger("chargeledger")

EPILOG = """\
examples:
  chargeledger serve --port 8000          the API, read models, workers and scheduler in one process
  chargeledger demo --customers 50        months of charging and billing, with a support key to look
  chargeledger verify --emp ID            check an EMP's hash chains and read models (exit 1 on problems)
  chargeledger export sessions --emp ID --from 2026-01-01T00:00:00Z --output sessions.csv

configuration (environment; README.md lists every variable):
  CHARGELEDGER_DATABASE_URL   PostgreSQL URL; unset: an embedded PostgreSQL under the data dir
  CHARGELEDGER_DATA_DIR       where the embedded server and the generated admin key live (./.chargeledger)
  CHARGELEDGER_ADMIN_TOKEN    the admin key; unset: generated once and kept in the data dir
  CHARGELEDGER_LOG_FORMAT     console (readable; the default on a terminal) or json (the default otherwise)
"""


class CliError(Exception):
    """A refusal the command explains in one line; `status` is the exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line on stderr (and exit 2), pointing to the command's --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def package_version() -> str:
    try:
        return version("chargeledger")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def positive(name: str, most: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not {text!r}") from None
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{name} must be from 1 to {most}, not {value}")
        return value

    return parse


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is from 0 to 65535, not {value}")
    return value


def emp_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"an EMP id is a UUID, not {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="chargeledger",
        description="An event-sourced billing ledger for e-mobility providers (EMPs).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chargeledger {package_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )

    commands.add_parser(
        "migrate",
        help="apply pending database migrations",
        description="Apply the pending migrations (serve applies them at start too).",
    )
    serve = commands.add_parser(
        "serve",
        help="serve the API with the read models, workers and scheduler in-process",
        description="Serve the API; the asynchronous read models, the card-payment, mail and webhook"
        " workers and the scheduler run in this process. The address is printed once it listens.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=port_number, default=8000, help="port to listen on; 0 picks a free one (default: 8000)"
    )
    serve.add_argument(
        "--workers",
        type=positive("--workers", 64),
        default=None,
        help="API processes (default: CHARGELEDGER_API_WORKERS, else 1: everything in one process)",
    )
    commands.add_parser(
        "project",
        help="run the read models and the card-payment, mail and webhook workers (no API)",
        description="Run the asynchronous read models and the background workers until stopped.",
    )
    commands.add_parser(
        "schedule",
        help="run the batch-job scheduler alone (one leader acts)",
        description="Run the batch-job scheduler until stopped; of several, only the advisory-lock"
        " holder acts.",
    )
    verify = commands.add_parser(
        "verify",
        help="check every stream's hash chain and every read model",
        description="Check every stream's hash chain and every read model against the events;"
        " exit 1 when a problem is found.",
    )
    verify.add_argument("--emp", type=emp_id, default=None, metavar="ID", help="only this EMP's streams")
    commands.add_parser(
        "rebuild",
        help="rebuild every read model from the first event",
        description="Rebuild every read model from the first event (writes wait meanwhile: do it in a"
        " quiet moment).",
    )
    export = commands.add_parser(
        "export",
        help="export an EMP's sessions or transactions as CSV or NDJSON",
        description="Stream an EMP's sessions (by end) or transactions (by recording) in [--from, --to).",
    )
    export.add_argument("kind", choices=["sessions", "transactions"], help="what to export")
    export.add_argument("--emp", type=emp_id, required=True, metavar="ID", help="the EMP's id")
    export.add_argument(
        "--from",
        dest="start",
        default=None,
        metavar="INSTANT",
        help="RFC 3339 instant with a zone, inclusive (default: the beginning)",
    )
    export.add_argument(
        "--to",
        dest="end",
        default=None,
        metavar="INSTANT",
        help="RFC 3339 instant with a zone, exclusive (default: now)",
    )
    export.add_argument("--format", choices=["csv", "ndjson"], default="csv", help="default: csv")
    export.add_argument(
        "--output", default="-", metavar="FILE", help="file to write (default: standard output)"
    )
    demo = commands.add_parser(
        "demo",
        help="simulate months of charging and billing, then summarise",
        description="Create a demo EMP with a catalog and customers, simulate charging and the nightly"
        " jobs on a moving clock, and print a summary with a support key to look at the result.",
    )
    demo.add_argument(
        "--customers",
        type=positive("--customers", 100_000),
        default=200,
        help="customers to register (default: 200)",
    )
    demo.add_argument(
        "--days", type=positive("--days", 3650), default=90, help="days to simulate (default: 90)"
    )
    demo.add_argument(
        "--seed", type=int, default=7, help="random seed: the same seed, the same story (default: 7)"
    )
    demo.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="where `chargeledger serve` answers, for the support page link (default: http://127.0.0.1:8000)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # One-shot commands print their own results; their progress logs would only be noise.
    long_running = args.command in ("serve", "project", "schedule")
    try:
        configure_logging(level="INFO" if long_running else "WARNING")
    except ValueError as error:
        return fail(str(error), 2)
    # SIGTERM ends the command like Ctrl-C does: exit handlers run (the embedded server stops).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except CliError as error:
        return fail(str(error), error.status)
    except DomainError as error:
        return fail(error.detail)
    except MigrationError as error:
        return fail(f"migrations: {error}")
    except psycopg.OperationalError as error:
        return fail(f"the database did not answer: {error}")
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        return fail(f"{error.strerror or error}{where}")
    except Exception as error:
        return fail(f"unexpected {type(error).__name__}: {error}")


def _exit_on_signal(signum: int, _: Any) -> None:
    raise SystemExit(128 + signum)


def fail(message: str, status: int = 1) -> int:
    """The error as one line on stderr."""
    line = " ".join(message.split())
    print(f"chargeledger: {line}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ValueError as error:  # a setting that means nothing: stop before anything starts
        raise CliError(str(error), 2) from None
    if args.command == "serve":
        workers = args.workers if args.workers is not None else settings.api_workers
        if workers < 1:
            raise CliError("CHARGELEDGER_API_WORKERS must be at least 1", 2)
        # Listen first: a port in use stops the command before anything else starts.
        listener = listen(args.host, args.port)
        return _serve(settings, _database(settings), listener, workers)
    if args.command == "demo":
        return _demo(settings, _database(settings), args)
    if args.command == "export":
        return _export(settings, args)
    database_url = _database(settings)
    if args.command == "migrate":
        applied = migrate(database_url)
        print(f"migrations applied: {', '.join(applied) if applied else 'none pending'}")
        return 0
    if args.command == "project":
        return _project(settings, database_url)
    if args.command == "schedule":
        return _schedule(settings, database_url)
    if args.command == "verify":
        return _verify(settings, database_url, args.emp)
    if args.command == "rebuild":
        return _rebuild(settings, database_url)
    raise CliError(f"unknown command {args.command}", 2)


def _database(settings: Settings) -> str:
    """The database URL, the server checked to answer (the embedded one started if need be)."""
    if settings.database_url:
        try:
            ConnectionParams.from_url(settings.database_url)
        except ValueError as error:
            raise CliError(f"CHARGELEDGER_DATABASE_URL: {error}", 2) from None
    url = resolve_database_url(settings.database_url, settings.data_dir)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        raise CliError(f"the database at {_shown(url)} did not answer: {error}") from None
    return url


def _shown(url: str) -> str:
    """A database URL without its password."""
    params = ConnectionParams.from_url(url)
    return f"{params.user}@{params.host}:{params.port}/{params.dbname}"


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except socket.gaierror as error:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror}", 2) from None
    except OSError as error:
        sock.close()
        hint = f"; choose another: serve --port {port + 1} (make run PORT={port + 1})" if port else ""
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror}{hint}") from None
    sock.set_inheritable(True)  # the API processes of --workers take it over
    return sock


def _serve(settings: Settings, database_url: str, listener: socket.socket, workers: int) -> int:
    from uvicorn.supervisors import Multiprocess

    from api.app import create_app
    from chargeledger.logs import formatter_path
    from chargeledger.serving import SERVE_DATABASE_URL, api_context
    from chargeledger.welcome import first_hour

    token, generated = load_or_create_admin_token(settings.admin_token, settings.data_dir)
    system = build_system(
        database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key, stripe=settings.stripe
    )
    system.start_projections()
    system.start_payment_worker()
    system.start_mail_worker(settings.smtp_url, settings.mail_from)
    system.start_webhook_worker(allow_insecure=settings.allow_insecure_outbound)
    system.start_scheduler(schedules_from_env())
    host, port = listener.getsockname()[:2]

    def announce() -> None:
        print(first_hour(host, port, settings, token, generated, workers), flush=True)

    try:
        if workers > 1:
            # The API processes inherit the resolved database and the admin key.
            os.environ[SERVE_DATABASE_URL] = database_url
            os.environ["CHARGELEDGER_ADMIN_TOKEN"] = token
            config = uvicorn.Config(
                "chargeledger.serving:api_process_app",
                factory=True,
                workers=workers,
                log_config=None,
                access_log=False,
            )
            announce()  # the socket listens already; each API process accepts on it once started
            Multiprocess(config, sockets=[listener]).run()
        else:
            ctx = api_context(system, settings, token, database_url)
            # Sessions already queued are recorded before the system closes.
            app = create_app(ctx, log_formatter=formatter_path(), on_shutdown=[ctx.session_batcher.stop])
            server = AnnouncingServer(uvicorn.Config(app, log_config=None, access_log=False), announce)
            server.run(sockets=[listener])
    finally:
        system.close()
    return 0


class AnnouncingServer(uvicorn.Server):
    """Tells the address once the socket accepts requests, not before."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.announce()


def _project(settings: Settings, database_url: str) -> int:
    system = build_system(
        database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key, stripe=settings.stripe
    )
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
    system = build_system(
        database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key, stripe=settings.stripe
    )
    schedules = schedules_from_env()
    logger.info("scheduler starting", extra={"schedules": schedules})
    try:
        system.start_scheduler(schedules, blocking=True)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        system.close()
    return 0


def _verify(settings: Settings, database_url: str, emp: UUID | None) -> int:
    from chargeledger.progress import progress_bar
    from projections.verification import verify

    migrate(database_url)
    if emp is not None:
        _check_emp(database_url, emp)
    key = settings.hmac_key.encode() if settings.hmac_key else None
    with progress_bar("verifying", total=_event_count(database_url), unit="events") as bar:
        report = verify(database_url, key=key, emp_id=emp, progress=lambda events: bar.update(events))
        bar.finish()
    print(
        f"{'ok' if report.ok else 'PROBLEMS FOUND'}: {report.streams_checked} streams,"
        f" {report.events_checked} events checked"
    )
    for problem in report.problems:
        print(f"  {problem.kind}: stream {problem.stream} version {problem.version}: {problem.detail}")
    return 0 if report.ok else 1


def _check_emp(database_url: str, emp: UUID) -> None:
    with psycopg.connect(database_url) as conn:
        known = conn.execute("SELECT 1 FROM emps WHERE id = %s", (emp,)).fetchone()
    if known is None:
        raise CliError(f"--emp: no EMP has the id {emp}")


def _event_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        if conn.execute("SELECT to_regclass('ledger_events')").fetchone() == (None,):
            return 0  # nothing recorded yet: the events table comes with the first start
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def _rebuild(settings: Settings, database_url: str) -> int:
    system = build_system(
        database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key, stripe=settings.stripe
    )
    try:
        read = system.rebuild()
        print(f"read models rebuilt from {read} events, to log position {system.head()}")
    finally:
        system.close()
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from psycopg_pool import ConnectionPool

    from api.instants import parse_instant
    from projections.exports import export

    try:
        start = parse_instant(args.start, "--from") or datetime(1970, 1, 1, tzinfo=UTC)
        end = parse_instant(args.end, "--to") or datetime.now(UTC)
    except DomainError as error:
        raise CliError(f"{error.detail} such as 2026-01-01T00:00:00Z", 2) from None
    if end < start:
        raise CliError("--to is before --from", 2)
    database_url = _database(settings)
    migrate(database_url)
    _check_emp(database_url, args.emp)
    target = sys.stdout.buffer if args.output == "-" else _open_output(args.output)
    with ConnectionPool(database_url, min_size=1, max_size=1, kwargs={"options": "-c timezone=UTC"}) as pool:
        chunks, _ = export(pool, args.kind, args.emp, start, end, args.format)
        try:
            for chunk in chunks:
                target.write(chunk)
        finally:
            if target is sys.stdout.buffer:
                target.flush()
            else:
                target.close()
    return 0


def _open_output(path: str) -> Any:
    try:
        return Path(path).open("wb")
    except OSError as error:
        raise CliError(f"--output: cannot write {path}: {error.strerror}") from None


def _demo(settings: Settings, database_url: str, args: argparse.Namespace) -> int:
    from chargeledger.demo import run_demo

    system = build_system(
        database_url, pool_size=settings.pool_size, hmac_key=settings.hmac_key, stripe=settings.stripe
    )
    system.start_projections()
    system.start_mail_worker(settings.smtp_url, settings.mail_from)
    try:
        run_demo(system, customers=args.customers, days=args.days, seed=args.seed, support_url=args.url)
    finally:
        system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What `chargeledger serve` runs. With one API process (the default) everything runs in it.
With several (CHARGELEDGER_API_WORKERS, uvicorn worker processes, so that the API is no longer
held to one core by Python's interpreter lock), the serving process keeps the projections, the
card-payment and mail workers and the scheduler, and each API process records commands and
waits for the read models by hearing the projection worker's announcements."""

from __future__ import annotations

import os

from litestar import Litestar

from api.app import create_app
from api.context import ApiContext
from api.rate_limit import AuthFailures
from chargeledger.config import Settings
from chargeledger.logs import configure_logging, formatter_path
from chargeledger.system import System, build_system
from commands.session_batcher import SessionBatcher

# The database URL as the serving process resolved it (the embedded server's socket, say).
SERVE_DATABASE_URL = "CHARGELEDGER_SERVE_DATABASE_URL"


def api_context(
    system: System, settings: Settings, admin_token: str, database_url: str, *, only_writer: bool = True
) -> ApiContext:
    """`only_writer`: no other process records sessions, so the cache of customers is never
    stale for them (the single-process default)."""
    return ApiContext(
        services=system.services,
        pool=system.pool,
        progress=system.progress,
        admin_token=admin_token,
        projection_statuses=system.projection_statuses,
        run_job=system.run_job,
        advance_test_clock=lambda emp_id, to, run_jobs, actor: system.advance_test_clock(
            emp_id, to, run_jobs=run_jobs, actor=actor
        ),
        database_url=database_url,
        chain_key=system.chain_key,
        session_batcher=SessionBatcher(system.services, trust_cache=only_writer),
        write_wait_timeout=settings.write_wait_timeout,
        rate_limits=settings.rate_limits,
        auth_failures=AuthFailures(settings.auth_failure_limit),
        allow_insecure_outbound=settings.allow_insecure_outbound,
        public_url=settings.public_url,
        wake_webhooks=system.wake_webhooks,
        webhook_deliveries=system.webhook_deliveries,
    )


def api_process_app() -> Litestar:
    """The app of one of several API processes; uvicorn calls this in each worker process."""
    configure_logging()
    settings = Settings.from_env()
    database_url = os.environ[SERVE_DATABASE_URL]
    if not settings.admin_token:
        raise RuntimeError("an API process needs CHARGELEDGER_ADMIN_TOKEN from the serving process")
    system = build_system(
        database_url,
        pool_size=settings.pool_size,
        hmac_key=settings.hmac_key,
        run_migrations=False,
        stripe=settings.stripe,
    )
    system.progress.follow(database_url)
    ctx = api_context(system, settings, settings.admin_token, database_url, only_writer=False)

    def close() -> None:
        ctx.session_batcher.stop()
        system.close()

    return create_app(ctx, log_formatter=formatter_path(), on_shutdown=[close])

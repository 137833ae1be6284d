"""Serving an app of our own over real HTTP: another configuration on the shared system, or a
ledger in a database of its own when a test's traffic must not reach the others' data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import uvicorn

from api.app import create_app
from api.context import ApiContext
from chargeledger.system import System, build_system
from tests.conftest import ADMIN_TOKEN, ServedApp, create_database, drop_database, free_port


def context_for(system: System, **overrides: Any) -> ApiContext:
    ctx = ApiContext(
        services=system.services,
        pool=system.pool,
        progress=system.progress,
        admin_token=ADMIN_TOKEN,
        projection_statuses=system.projection_statuses,
        run_job=system.run_job,
        database_url=system.database_url,
        chain_key=system.chain_key,
    )
    return replace(ctx, **overrides)


@contextmanager
def serving(ctx: ApiContext, system: System) -> Iterator[ServedApp]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield ServedApp(f"http://127.0.0.1:{server.config.port}", system)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def ledger_of_its_own(server_url: str) -> Iterator[ServedApp]:
    """A fresh database, a system with its projections and payment worker, served."""
    database_url = create_database(server_url, "cl_own")
    system = build_system(database_url, pool_size=4)
    try:
        system.start_projections()
        system.start_payment_worker()
        with serving(context_for(system), system) as served:
            yield served
    finally:
        system.close()
        drop_database(server_url, database_url)

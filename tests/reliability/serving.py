"""Serving an app of our own over real HTTP: another configuration on the shared system, or a
ledger in a database of its own when a test's traffic must not reach the others' data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chargeledger.system import build_system
from tests.conftest import WEBHOOK_RETRIES, ServedApp, context_for, create_database, drop_database, serving

__all__ = ["context_for", "ledger_of_its_own", "serving"]


@contextmanager
def ledger_of_its_own(server_url: str, *, delivering_webhooks: bool = False) -> Iterator[ServedApp]:
    """A fresh database, a system with its projections and payment worker (and, if asked, the
    webhook deliveries, to local receivers and with the tests' quick retries), served."""
    database_url = create_database(server_url, "cl_own")
    system = build_system(database_url, pool_size=4)
    try:
        system.start_projections()
        system.start_payment_worker()
        if delivering_webhooks:
            system.start_webhook_worker(allow_insecure=True, schedule=WEBHOOK_RETRIES, poll_seconds=0.1)
        with serving(context_for(system), system) as served:
            yield served
    finally:
        system.close()
        drop_database(server_url, database_url)

"""Writes that wait for an asynchronous read model hold up no other request: with the
projections stopped, more writes than the event loop's default executor has threads (six on two
cores) wait at once, and a read sent after them answers while they still wait."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest

from chargeledger.system import System, build_system
from tests.conftest import ADMIN_TOKEN, ServedApp, context_for, make_tenant, serving
from tests.reliability.crash_serve import wait_until

WAITING_WRITES = 8
# Long enough that the read, sent once every write is recorded, comes back well before it.
READ_MODEL_WAIT = 20.0


@pytest.fixture
def system(fresh_database_url: str) -> Iterator[System]:
    built = build_system(fresh_database_url, pool_size=WAITING_WRITES + 4)
    built.start_projections()
    yield built
    built.close()


def head(system: System) -> int:
    return system.ledger.recorder.max_notification_id() or 0


def test_a_read_answers_while_many_writes_wait_for_stalled_read_models(system: System) -> None:
    ctx = context_for(system, write_wait_timeout=READ_MODEL_WAIT)
    with serving(ctx, system) as served, served.client(ADMIN_TOKEN) as admin:
        tenant = make_tenant(served, admin)
        system.stop_projections()
        before = head(system)

        def register(n: int) -> httpx.Response:
            # A package answers from the catalog, an asynchronous read model: the write waits.
            body = {"code": f"P{n}", "name": f"Package {n}", "kind": "bolt_on", "recurring": False}
            with served.client(tenant.keys["emp"]) as client:
                return client.post(
                    "/v1/packages",
                    json={**body, "payment": "any", "price_minor": 100},
                    timeout=READ_MODEL_WAIT * 3,
                )

        with ThreadPoolExecutor(WAITING_WRITES) as writers:
            writes: list[Future[httpx.Response]] = [
                writers.submit(register, n) for n in range(WAITING_WRITES)
            ]
            # Every write recorded: each now holds its handler's thread until the read models move.
            wait_until(lambda: head(system) >= before + WAITING_WRITES, "every write recorded")
            read = listing(served, tenant.keys["support"])
            still_waiting = [write for write in writes if not write.done()]
            system.start_projections()
            answers = [write.result() for write in writes]

    assert read.status_code == 200, read.text
    assert len(still_waiting) == WAITING_WRITES, "the read answered only once writes had given up"
    assert [answer.status_code for answer in answers] == [201] * WAITING_WRITES
    tenant.close()


def listing(served: ServedApp, key: str) -> httpx.Response:
    with served.client(key) as client:
        return client.get("/v1/customers", timeout=READ_MODEL_WAIT * 3)

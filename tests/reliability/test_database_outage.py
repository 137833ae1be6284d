"""PostgreSQL goes away under a serving process and comes back.

While it is away, every request is answered with 503 problem details (never a 500, never a
hang: the clients' timeouts fail the test); `/health` says 503. When it is back, the same
process recovers by itself - API, projections, card-payment worker, mail sender - and nothing
that was acknowledged before or around the outage is lost.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.reliability.crash_serve import (
    AcknowledgedWrites,
    ServeProcess,
    create_tenant,
    rows,
    serve_process,
    session_body,
    wait_until,
)
from tests.reliability.outage_postgres import DedicatedPostgres
from tests.smtp import SmtpServer

CARD = {"token": "tok_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
DECLINING_CARD = {**CARD, "token": "tok_chargeCustomerFail", "last4": "0341"}
# Generous, but finite: a request that hangs on the missing database fails the test.
HANG_GUARD = httpx.Timeout(30.0, connect=5.0)
PROBE_ROUNDS = 2


@pytest.fixture
def postgres() -> Iterator[DedicatedPostgres]:
    # Not under pytest's tmp dir: as root the server runs as another user, and any pytest run
    # starting meanwhile takes group and other access off /tmp/pytest-of-<user> again.
    data_dir = Path(tempfile.mkdtemp(prefix="chargeledger-outage-"))
    server = DedicatedPostgres(data_dir)
    yield server
    server.close()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def served(postgres: DedicatedPostgres, smtp: SmtpServer, tmp_path: Path) -> Iterator[ServeProcess]:
    with serve_process(postgres.create_database(), tmp_path, smtp.url) as process:
        process.start()
        yield process


def assert_service_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, f"{response.request.method} {response.request.url}: {response.text}"
    assert response.headers["content-type"] == "application/problem+json", response.text
    assert response.json()["type"].endswith("/service-unavailable"), response.text


def new_customer(client: httpx.Client, account_type: str, email: str = "ann@example.com") -> str:
    created = client.post(
        "/v1/customers", json={"name": "Driver", "email": email, "account_type": account_type}
    )
    assert created.status_code == 201, created.text
    customer_id: str = created.json()["id"]
    return customer_id


def balance(client: httpx.Client, customer_id: str) -> int:
    value: int = client.get(f"/v1/customers/{customer_id}/balance").json()["balance_minor"]
    return value


def test_an_outage_is_answered_503_and_the_same_process_recovers_without_losing_writes(
    postgres: DedicatedPostgres, served: ServeProcess, smtp: SmtpServer
) -> None:
    tenant = create_tenant(served)
    client = served.client(tenant.key, timeout=HANG_GUARD)
    admin = served.client(timeout=HANG_GUARD)
    ann = new_customer(client, "prepaid")
    assert client.put(f"/v1/customers/{ann}/payment-card", json=CARD).status_code == 200
    before = client.post(
        f"/v1/customers/{ann}/top-ups", json={"amount_minor": 5000}, headers={"Idempotency-Key": "before"}
    )
    assert before.status_code == 201, before.text
    writer = AcknowledgedWrites(served, tenant, new_customer(client, "postpaid"))
    writer.start()
    wait_until(lambda: len(writer.acknowledged) >= 5, "sessions acknowledged before the outage")
    assert served.process is not None
    pid = served.process.pid

    postgres.stop()
    # Every kind of request at once, as many clients would send them: reads, writes, keyed
    # writes, the health check. The admin key needs no database lookup, so its requests reach
    # the event store and the service tables themselves. Two rounds: the pools' broken
    # connections first, then their failing reconnects.
    probes: list[Callable[[], httpx.Response]] = [
        lambda: httpx.get(f"{served.base_url}/health", timeout=HANG_GUARD),
        lambda: admin.post("/v1/emps", json={"name": "EMP during", "currency": "EUR"}),
        lambda: admin.get("/v1/jobs/runs"),
        lambda: client.get(f"/v1/customers/{ann}/balance"),
        lambda: client.get(f"/v1/customers/{ann}/transactions"),
        lambda: client.post("/v1/sessions", json=session_body(ann, 100)),
        lambda: client.post(
            f"/v1/customers/{ann}/top-ups", json={"amount_minor": 1000}, headers={"Idempotency-Key": "during"}
        ),
    ]
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        for _ in range(PROBE_ROUNDS):
            for response in pool.map(lambda probe: probe(), probes):
                assert_service_unavailable(response)

    postgres.start()
    # No restart of ours: the same process must come back by itself.
    wait_until(
        lambda: httpx.get(f"{served.base_url}/health", timeout=HANG_GUARD).status_code == 200,
        "health after PostgreSQL is back",
        timeout=60,
    )
    assert served.process is not None and served.process.pid == pid and served.process.poll() is None

    # Read-your-writes holds at once: the projections did not sleep through the recovery.
    first = client.post("/v1/sessions", json=session_body(ann, 250))
    assert first.status_code == 201, first.text
    listed = client.get(f"/v1/customers/{ann}/transactions").json()["items"]
    assert listed[-1]["reference"] == first.json()["session_id"]
    # The keyed top-up refused during the outage goes through when retried, and is charged once.
    retried = client.post(
        f"/v1/customers/{ann}/top-ups", json={"amount_minor": 1000}, headers={"Idempotency-Key": "during"}
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["balance_minor"] == 5000 - 250 + 1000
    target = len(writer.acknowledged) + 5
    wait_until(lambda: len(writer.acknowledged) >= target, "sessions acknowledged after the outage")
    writer.stop()

    # The background workers came back too: an automatic top-up is charged and credited, and a
    # declined one is mailed.
    consent = client.put(f"/v1/customers/{ann}/auto-top-up", json={"enabled": True})
    assert consent.status_code == 200, consent.text
    assert client.post("/v1/sessions", json=session_body(ann, 5000)).status_code == 201
    wait_until(lambda: balance(client, ann) == 5750 - 5000 + 3000, "the automatic top-up after the outage")
    ben = new_customer(client, "prepaid", "ben@example.com")
    assert client.put(f"/v1/customers/{ben}/payment-card", json=DECLINING_CARD).status_code == 200
    assert client.put(f"/v1/customers/{ben}/auto-top-up", json={"enabled": True}).status_code == 200
    assert client.post("/v1/sessions", json=session_body(ben, 600)).status_code == 201
    smtp.inbox.wait_for("ben@example.com", timeout=30)

    writer.assert_all_kept(served)
    charges = rows(served.database_url, "SELECT amount_minor, approved FROM gateway_charges ORDER BY 1, 2")
    assert charges == [(1000, True), (3000, False), (3000, True), (5000, True)]
    client.close()
    admin.close()

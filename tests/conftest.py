"""Shared fixtures: real PostgreSQL servers (embedded, and CI's when configured), a fresh
database per test run, the ledger system, and the API served over real HTTP."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg
import pytest
import uvicorn

from api.app import create_app
from api.context import ApiContext
from chargeledger.config import Settings, StripeSettings
from chargeledger.database import start_embedded_server
from chargeledger.serving import api_context
from chargeledger.system import System, build_system
from tests.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.smtp import SmtpServer

EXTERNAL_URL = os.environ.get("CHARGELEDGER_TEST_DATABASE_URL")
SERVERS = ["embedded", *(["external"] if EXTERNAL_URL else [])]
ADMIN_TOKEN = "test-admin-token"


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") and not EXTERNAL_URL:
        raise pytest.UsageError("CI must set CHARGELEDGER_TEST_DATABASE_URL (see .ci/run)")


def pytest_report_header(config: pytest.Config) -> str:
    return f"PostgreSQL servers under test: {', '.join(SERVERS)}"


def with_database(url: str, dbname: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{dbname}"))


def create_database(server_url: str, prefix: str = "cl_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def drop_database(server_url: str, database_url: str) -> None:
    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def embedded_server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return start_embedded_server(tmp_path_factory.mktemp("embedded-pg"))


@pytest.fixture(scope="session", params=SERVERS)
def server_url(request: pytest.FixtureRequest) -> str:
    """The URL of one PostgreSQL server's maintenance database; tests run once per server."""
    if request.param == "external":
        assert EXTERNAL_URL
        return EXTERNAL_URL
    url: str = request.getfixturevalue("embedded_server_url")
    return url


@pytest.fixture
def fresh_database_url(server_url: str) -> Iterator[str]:
    """An empty database of its own for one test."""
    url = create_database(server_url, "cl_fresh")
    yield url
    drop_database(server_url, url)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """This test run's own database on the server, shared by the tests of the run."""
    url = create_database(server_url)
    yield url
    drop_database(server_url, url)


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a local port, shared by the session."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


# Webhook retries a test can wait for: 8 attempts within two seconds.
WEBHOOK_RETRIES = (timedelta(seconds=0.2),) * 7


@pytest.fixture(scope="session")
def system(database_url: str, smtp: SmtpServer) -> Iterator[System]:
    built = start_workers(build_system(database_url, pool_size=6), smtp)
    yield built
    built.close()


def start_workers(built: System, smtp: SmtpServer) -> System:
    built.start_projections()
    built.start_payment_worker()
    built.start_mail_worker(smtp.url, "billing@test.invalid", poll_seconds=0.1, first_retry_seconds=0.2)
    # Receivers in tests listen on 127.0.0.1 over plain HTTP.
    built.start_webhook_worker(allow_insecure=True, schedule=WEBHOOK_RETRIES, poll_seconds=0.1)
    return built


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    """The fake Stripe (tests/fake_stripe.py) on a local port, shared by the session."""
    fake = FakeStripe().start()
    yield fake
    fake.stop()


def stripe_settings(fake: FakeStripe) -> StripeSettings:
    return StripeSettings(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, api_base=fake.url)


@pytest.fixture(scope="session")
def stripe_system(server_url: str, smtp: SmtpServer, fake_stripe: FakeStripe) -> Iterator[System]:
    """The ledger with CHARGELEDGER_PAYMENT_GATEWAY=stripe against the fake, on its own database."""
    url = create_database(server_url, "cl_stripe")
    built = start_workers(build_system(url, pool_size=4, stripe=stripe_settings(fake_stripe)), smtp)
    yield built
    built.close()
    drop_database(server_url, url)


@pytest.fixture(scope="session")
def stripe_served(stripe_system: System, fake_stripe: FakeStripe) -> Iterator[ServedApp]:
    """That ledger served on a local port; the fake Stripe sends its webhooks to it."""
    with serving(context_for(stripe_system), stripe_system) as app:
        fake_stripe.webhook_url = f"{app.base_url}/v1/psp/stripe/webhooks"
        yield app


@dataclass
class ServedApp:
    base_url: str
    system: System
    admin_token: str = ADMIN_TOKEN
    ctx: ApiContext | None = None

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def context_for(system: System, **overrides: Any) -> ApiContext:
    """The API context `chargeledger serve` builds (sessions through the batcher), for tests:
    webhook endpoints may be local HTTP receivers unless told otherwise, and the tests' wrong
    keys, all from 127.0.0.1, do not lock the address out (tests/e2e/test_operations.py does)."""
    built = api_context(system, Settings(auth_failure_limit=None), ADMIN_TOKEN, system.database_url)
    return replace(built, **{"allow_insecure_outbound": True, **overrides})


@contextmanager
def serving(ctx: ApiContext, system: System) -> Iterator[ServedApp]:
    """The Litestar app served by uvicorn on a local port: tests speak real HTTP to it."""
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
        yield ServedApp(f"http://127.0.0.1:{server.config.port}", system, ctx=ctx)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ctx.session_batcher.stop()


@pytest.fixture(scope="session")
def served(system: System) -> Iterator[ServedApp]:
    with serving(context_for(system), system) as app:
        yield app
        every_e_invoice_passes_the_peppol_rules(system)


def every_e_invoice_passes_the_peppol_rules(system: System) -> None:
    """At the end of the session: every invoice and credit note the tests made that has the
    details of an e-invoice passes the official EN 16931 and Peppol rules (docs/invoices.md)."""
    from domain.errors import SetUpRequired
    from projections.documents.model import credit_note_document, invoice_document
    from projections.documents.ubl import ubl_document
    from tests.peppol.validator import fatal_problems

    with system.pool.connection() as conn:
        invoices = [row[0] for row in conn.execute("SELECT id FROM invoices").fetchall()]
        notes = [row[0] for row in conn.execute("SELECT id FROM credit_notes").fetchall()]
    documents = [invoice_document(system.pool, i) for i in invoices]
    documents += [credit_note_document(system.pool, n) for n in notes]
    failing = {}
    for document in documents:
        assert document is not None
        try:
            xml = ubl_document(document)
        except SetUpRequired:
            continue  # no seller or buyer details: no e-invoice to send (422 naming them)
        problems = fatal_problems(xml)
        if problems:
            failing[document.number] = problems[:3]
    assert not failing, f"e-invoices the official rules refuse: {failing}"


@pytest.fixture
def admin(served: ServedApp) -> Iterator[httpx.Client]:
    with served.client(ADMIN_TOKEN) as client:
        yield client


@dataclass
class Tenant:
    """An EMP with one key per role, and clients that use them."""

    id: str
    currency: str
    keys: dict[str, str]
    served: ServedApp
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def as_role(self, role: str) -> httpx.Client:
        if role not in self.clients:
            self.clients[role] = self.served.client(self.keys[role])
        return self.clients[role]

    @property
    def emp(self) -> httpx.Client:
        return self.as_role("emp")

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def make_tenant(
    served: ServedApp,
    admin: httpx.Client,
    currency: str = "EUR",
    *,
    test_clock: datetime | None = None,
    time_zone: str = "UTC",
) -> Tenant:
    """An EMP with a key per role; on a test clock at `test_clock` if given (its jobs then run
    when the clock is moved, see `advance`)."""
    body: dict[str, Any] = {
        "name": f"EMP {uuid.uuid4().hex[:6]}",
        "currency": currency,
        "time_zone": time_zone,
    }
    if test_clock is not None:
        body["test_clock"] = {"now": test_clock.isoformat()}
    response = admin.post("/v1/emps", json=body)
    assert response.status_code == 201, response.text
    emp_id = response.json()["id"]
    keys = {}
    for role in ("emp", "support", "auditor"):
        key = admin.post(f"/v1/emps/{emp_id}/api-keys", json={"role": role})
        assert key.status_code == 201, key.text
        keys[role] = key.json()["key"]
    return Tenant(emp_id, currency, keys, served)


@pytest.fixture
def tenant(served: ServedApp, admin: httpx.Client) -> Iterator[Tenant]:
    made = make_tenant(served, admin)
    yield made
    made.close()


@pytest.fixture
def other_tenant(served: ServedApp, admin: httpx.Client) -> Iterator[Tenant]:
    made = make_tenant(served, admin)
    yield made
    made.close()

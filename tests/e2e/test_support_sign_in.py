"""Signing in to the support page, in headless Chromium: the browser holds a session id, never
the key; the session ends at sign-out, when it expires and when its key is revoked; wrong keys
are limited per address; errors are pages for people."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from api.rate_limit import AuthFailures, RateLimit
from tests.conftest import ServedApp, Tenant, context_for, serving
from tests.e2e.conftest import screenshot
from tests.e2e.ledger_story import customer


def sign_in(page: Any, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/support")
    page.fill("#key", key)
    page.click("#sign-in")


def test_signing_in_gives_the_browser_a_session_cookie_and_never_the_key(
    page: Any, served: ServedApp, tenant: Tenant
) -> None:
    key = tenant.keys["support"]
    sign_in(page, served.base_url, key)

    assert page.inner_text("h1") == "Find a customer"
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "chargeledger_support_session"
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/support"
    assert cookie["expires"] > 0  # it expires; the server ends it earlier when idle
    assert key not in cookie["value"] and key[4:36] not in cookie["value"]  # nor the key's id
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
    assert key not in page.content()
    with psycopg.connect(served.system.database_url) as conn:
        stored = conn.execute("SELECT * FROM support_sessions").fetchall()
    assert not any(key in repr(row) or cookie["value"] in repr(row) for row in stored)


def test_signing_out_ends_the_session(page: Any, served: ServedApp, tenant: Tenant) -> None:
    sign_in(page, served.base_url, tenant.keys["support"])
    (cookie,) = page.context.cookies()
    page.click("#sign-out")

    assert page.inner_text("h1") == "Sign in"
    assert page.context.cookies() == []
    # The old session id no longer signs anyone in, even if a copy of it was kept.
    page.context.add_cookies([{**cookie, "expires": -1}])
    page.goto(f"{served.base_url}/support")
    assert page.inner_text("h1") == "Sign in"
    screenshot(page, "sign-in")


@pytest.mark.parametrize(
    "ended",
    [
        "last_seen_at = now() - interval '61 minutes'",  # an hour without a page
        "created_at = now() - interval '8 hours 1 minute'",  # eight hours after signing in
    ],
)
def test_an_expired_session_asks_for_the_key_again(
    page: Any, served: ServedApp, tenant: Tenant, ended: str
) -> None:
    found = customer(tenant, name=f"Expiring {uuid.uuid4().hex[:8]}")
    key = tenant.keys["support"]
    sign_in(page, served.base_url, key)
    page.goto(f"{served.base_url}/support/customers/{found['id']}")
    assert page.inner_text("h1") == found["name"]

    with psycopg.connect(served.system.database_url) as conn:  # time passes for this key's sessions
        conn.execute(
            f"UPDATE support_sessions SET {ended} WHERE key_id = %s",
            (uuid.UUID(hex=key[4:36]),),
        )
    page.reload()
    assert page.inner_text("h1") == "Sign in"
    page.fill("#key", key)
    page.click("#sign-in")
    assert page.inner_text("h1") == found["name"]  # back where the sign-in was asked for


def test_a_revoked_key_ends_its_sessions(
    page: Any, served: ServedApp, admin: httpx.Client, tenant: Tenant
) -> None:
    made = admin.post(f"/v1/emps/{tenant.id}/api-keys", json={"role": "support"})
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    sign_in(page, served.base_url, key)
    assert page.inner_text("h1") == "Find a customer"

    # Revoked as DELETE /v1/emps/{id}/api-keys/{key_id} revokes it: the row is marked.
    with psycopg.connect(served.system.database_url) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE id = %s", (uuid.UUID(hex=key[4:36]),))
    page.reload()
    assert page.inner_text("h1") == "Sign in"


def test_the_admin_key_and_wrong_keys_do_not_sign_in(page: Any, served: ServedApp) -> None:
    for key in (served.admin_token, "not-a-key", f"clk_{uuid.uuid4().hex}{uuid.uuid4().hex}"):
        sign_in(page, served.base_url, key)
        assert page.inner_text("h1") == "Sign in"
        assert "not an API key of an EMP" in page.inner_text("#error")
        assert page.context.cookies() == []


@pytest.fixture
def guarded(served: ServedApp) -> Iterator[ServedApp]:
    """The app with failed sign-ins limited: three per address, refilled too slowly to matter."""
    ctx = context_for(served.system, auth_failures=AuthFailures(RateLimit(rate=0.001, burst=3)))
    with serving(ctx, served.system) as app:
        yield app


def test_an_address_that_keeps_trying_wrong_keys_gets_a_too_many_requests_page(
    page: Any, guarded: ServedApp, tenant: Tenant
) -> None:
    statuses = []
    for _ in range(3):
        page.goto(f"{guarded.base_url}/support")
        page.fill("#key", f"clk_{uuid.uuid4().hex}{uuid.uuid4().hex}")
        with page.expect_response(f"{guarded.base_url}/support/login") as answer:
            page.click("#sign-in")
        statuses.append(answer.value.status)
    page.goto(f"{guarded.base_url}/support")
    page.fill("#key", tenant.keys["support"])  # even the right key, from this address, for a while
    with page.expect_response(f"{guarded.base_url}/support/login") as answer:
        page.click("#sign-in")

    assert statuses == [401, 401, 401]
    assert answer.value.status == 429
    assert int(answer.value.headers["retry-after"]) >= 1
    assert answer.value.headers["content-type"].startswith("text/html")
    assert page.inner_text("#error-title") == "Too many requests"
    assert "retry after" in page.inner_text("#error")
    assert page.context.cookies() == []
    screenshot(page, "too-many-sign-ins")


def test_the_cookie_is_secure_when_the_ledger_is_reached_over_https(
    served: ServedApp, tenant: Tenant
) -> None:
    with (
        serving(context_for(served.system, public_url="https://ledger.example.com"), served.system) as public,
        httpx.Client(base_url=public.base_url) as client,
    ):
        signed_in = client.post("/support/login", data={"key": tenant.keys["support"]})
    assert signed_in.status_code == 303
    attributes = [part.strip().lower() for part in signed_in.headers["set-cookie"].split(";")]
    assert "secure" in attributes and "httponly" in attributes and "samesite=strict" in attributes


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/support/customers/{unknown}", 404, "Not found"),
        ("/support/nothing-here", 404, "Not found"),
        ("/support/customers/{customer}?at=2026-13-45T99:00:00", 400, "The request is not valid"),
        ("/support/customers/{customer}?at=0001-01-01T00:00:00%2B14:00", 422, None),
    ],
)
def test_errors_on_the_support_page_are_pages_for_people(
    page: Any, served: ServedApp, tenant: Tenant, path: str, status: int, title: str | None
) -> None:
    found = customer(tenant)
    sign_in(page, served.base_url, tenant.keys["support"])
    url = served.base_url + path.format(unknown=uuid.uuid4(), customer=found["id"])
    answer = page.goto(url)

    assert answer.status == status
    assert answer.headers["content-type"].startswith("text/html")
    assert page.inner_text("#error-title") == (title or page.inner_text("#error-title"))
    assert page.inner_text("#error") and "{" not in page.inner_text("body")  # no JSON
    if status == 404 and "customers" in path:
        screenshot(page, "not-found")

"""Every route against every kind of caller: no key, a wrong key, each role, the admin key and
another EMP's key. The contract's answer each time (401, 403, 404 for another EMP's resource,
success otherwise), errors as problem details; and API keys are neither stored nor logged."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.reliability.evidence import captured_logs, database_text
from tests.reliability.routes import CPO, PUBLIC, ROUTES, Route, World, build_world
from tests.reliability.serving import ledger_of_its_own

CALLERS = ["nobody", "stranger", "emp", "support", "auditor", "admin", "other-emp", "cpo"]
CODES = {401: "unauthorized", 403: "forbidden", 404: "not-found", 422: "validation-error"}


@pytest.fixture(scope="module")
def world(server_url: str) -> Iterator[World]:
    """A ledger of its own: the matrix runs a batch job, which must not bill others' customers."""
    with ledger_of_its_own(server_url) as served:
        built = build_world(served)
        yield built
        built.close()


def key_of(world: World, caller: str) -> str | None:
    keys = {
        "nobody": None,
        "stranger": world.tenant.keys["emp"][:-6] + "XXXXXX",  # a real key id, a wrong secret
        "admin": world.served.admin_token,
        "other-emp": world.other.keys["emp"],
    }
    return keys[caller] if caller in keys else world.tenant.keys[caller]


def call(world: World, route: Route, caller: str) -> httpx.Response:
    parameters, body = route.call(world)
    if caller == "cpo":
        with world.ocpi_client(parameters.get("token", world.token_c)) as client:
            return client.request(route.method, route.url(parameters), json=body)
    with world.served.client(key_of(world, caller)) as client:
        return client.request(route.method, route.url(parameters), json=body)


def sent(response: httpx.Response) -> str:
    return response.request.content.decode()


def tenant_ids(world: World) -> list[str]:
    return [world.prepaid["id"], world.postpaid["id"], world.subscription["id"], world.invoice_id]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.label)
def test_each_caller_gets_the_contracts_answer(world: World, route: Route, caller: str) -> None:
    expected = route.expected_for(caller)

    response = call(world, route, caller)

    assert response.status_code == expected, f"{route.label} as {caller}: {response.text}"
    if route.roles == CPO:
        # OCPI's own envelope, whatever the answer: 401 with status 2000 for anything but a token.
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["status_code"] == (1000 if expected < 400 else 2000), response.text
        return
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == f"https://chargeledger.dev/problems/{CODES[expected]}"
        assert problem["status"] == expected and problem["title"] and problem["detail"]
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if caller == "other-emp" and expected < 400:
        # Only what the caller sent may come back (a bulk answer names each item's customer).
        leaked = [
            found for found in tenant_ids(world) if found in response.text and found not in sent(response)
        ]
        assert leaked == [], "another EMP's data leaked"


def test_the_matrix_covers_every_documented_operation(world: World) -> None:
    document = httpx.get(f"{world.served.base_url}/schema/openapi.json").json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}

    assert documented == {(route.method, route.path) for route in ROUTES}
    # Stripe's events prove themselves by their signature (tests/e2e/test_stripe_payments.py).
    public = {"/health", "/metrics", "/v1/psp/stripe/webhooks"}
    assert {route.path for route in ROUTES if route.roles == PUBLIC} == public
    assert {route.path for route in ROUTES if route.roles == CPO} == {
        path for path in document["paths"] if path.startswith("/ocpi/")
    }


@pytest.mark.parametrize(
    ("caller", "shown"),
    [("nobody", False), ("emp", True), ("support", True), ("auditor", True), ("admin", False)],
)
def test_the_support_page_shows_a_customer_only_to_keys_of_its_emp(
    world: World, caller: str, shown: bool
) -> None:
    name = f"Page {uuid.uuid4().hex[:8]}"
    made = world.tenant.emp.post(
        "/v1/customers", json={"name": name, "email": "page@example.com", "account_type": "prepaid"}
    )
    with httpx.Client(base_url=world.served.base_url) as browser:
        key = key_of(world, caller)
        if key is not None:
            signed_in = browser.post("/support/login", data={"key": key})
            assert signed_in.status_code == (303 if shown else 401)

        page = browser.get(f"/support/customers/{made.json()['id']}")

    assert page.status_code == 200
    assert (name in page.text) is shown


def test_another_emps_key_finds_no_customer_on_the_support_page(world: World) -> None:
    with httpx.Client(base_url=world.served.base_url) as browser:
        assert browser.post("/support/login", data={"key": world.other.keys["support"]}).status_code == 303
        page = browser.get(f"/support/customers/{world.prepaid['id']}")
        search = browser.get("/support", params={"q": world.prepaid["name"]})

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")  # a page for people, not problem details
    assert world.prepaid["id"] not in search.text


def test_keys_are_stored_as_sha256_of_their_secret_only(world: World) -> None:
    database_url = world.served.system.database_url
    with psycopg.connect(database_url) as conn:
        columns = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_keys'"
            )
        }
        stored = dict(conn.execute("SELECT id::text, secret_sha256 FROM api_keys").fetchall())

    assert columns == {
        "id",
        "emp_id",
        "role",
        "name",
        "secret_sha256",
        "created_at",
        "last_used_at",
        "revoked_at",
    }
    everything = database_text(database_url)
    for key in world.tenant.keys.values():
        key_id, secret = str(uuid.UUID(key[4:36])), key[36:]
        assert bytes(stored[key_id]) == hashlib.sha256(secret.encode()).digest()
        assert secret not in everything and key not in everything
    assert world.served.admin_token not in everything


def test_keys_never_reach_the_logs(world: World) -> None:
    tampered = key_of(world, "stranger")
    keys = [*world.tenant.keys.values(), world.served.admin_token, tampered]
    with captured_logs() as logs:
        for route in ROUTES:
            for caller in ("stranger", "emp", "auditor", "admin"):
                call(world, route, caller)
        with world.served.client(world.tenant.keys["emp"]) as client:
            client.post(
                "/v1/customers", json={"name": world.tenant.keys["emp"]}
            )  # a key where it should not be
        with httpx.Client(base_url=world.served.base_url) as browser:
            browser.post("/support/login", data={"key": tampered})

    assert '"logger":"psycopg.pool"' in logs.text, "the server's records were not captured"
    for key in keys:
        secret = key[36:] if key.startswith("clk_") else key  # "clk_" + key id + secret
        assert key not in logs.text and secret not in logs.text

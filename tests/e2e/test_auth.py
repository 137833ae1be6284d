"""Keys, roles and tenancy: no key, a wrong key, a wrong role, another EMP's resource."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest

from api.keys import PREFIX
from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import refused_soon

CUSTOMER = {"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}


def test_no_key_is_unauthorized(served: ServedApp) -> None:
    with served.client() as anonymous:
        response = anonymous.get("/v1/customers")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://chargeledger.dev/problems/unauthorized"


@pytest.mark.parametrize("token", ["nonsense", "clk_" + "0" * 32 + "secret", "clk_zz", "Basic abc"])
def test_a_wrong_key_is_unauthorized(served: ServedApp, tenant: Tenant, token: str) -> None:
    with served.client(token) as client:
        response = client.get("/v1/customers")
    assert response.status_code == 401


def test_a_key_with_a_wrong_secret_is_unauthorized(served: ServedApp, tenant: Tenant) -> None:
    tampered = tenant.keys["emp"][:-3] + "xyz"
    with served.client(tampered) as client:
        assert client.get("/v1/customers").status_code == 401


def test_roles_limit_what_a_key_may_do(tenant: Tenant) -> None:
    for role in ("support", "auditor"):
        response = tenant.as_role(role).post("/v1/customers", json=CUSTOMER)
        assert response.status_code == 403, role
        assert response.json()["type"].endswith("/forbidden")
    customer = tenant.emp.post("/v1/customers", json=CUSTOMER).json()
    for role in ("emp", "support", "auditor"):
        assert tenant.as_role(role).get(f"/v1/customers/{customer['id']}").status_code == 200


def test_emp_keys_cannot_administer(tenant: Tenant) -> None:
    response = tenant.emp.post("/v1/emps", json={"name": "Rogue", "currency": "EUR"})
    assert response.status_code == 403


def test_the_admin_key_has_no_emp_data(admin, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    assert admin.get("/v1/customers").status_code == 403


def test_another_emps_customer_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    customer = tenant.emp.post("/v1/customers", json=CUSTOMER).json()
    path = f"/v1/customers/{customer['id']}"
    card = {"token": "tok_visa", "brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2031}

    assert other_tenant.emp.get(path).status_code == 404
    assert other_tenant.emp.get(f"{path}/balance").status_code == 404
    assert other_tenant.emp.put(f"{path}/payment-card", json=card).status_code == 404
    assert other_tenant.emp.delete(f"{path}/payment-card").status_code == 404
    assert other_tenant.emp.put(f"{path}/auto-top-up", json={"enabled": False}).status_code == 404
    assert other_tenant.emp.get("/v1/customers").json()["items"] == []
    assert tenant.emp.get(path).json()["payment_card"] is None


def test_keys_are_stored_only_as_hashes(served: ServedApp, tenant: Tenant) -> None:
    with psycopg.connect(served.system.database_url) as conn:
        rows = conn.execute("SELECT id::text, secret_sha256 FROM api_keys").fetchall()
    stored = " ".join(f"{key_id} {bytes(digest).hex()}" for key_id, digest in rows)
    for key in tenant.keys.values():
        assert key not in stored
        assert key[36:] not in stored


def test_keys_for_an_unknown_emp_are_refused(admin) -> None:  # type: ignore[no-untyped-def]
    response = admin.post("/v1/emps/00000000-0000-0000-0000-000000000000/api-keys", json={"role": "emp"})
    assert response.status_code == 404


def test_public_routes_need_no_key(served: ServedApp) -> None:
    with served.client() as anonymous:
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/schema/openapi.json").status_code == 200
        assert anonymous.get("/metrics").status_code == 200


def test_a_key_revoked_in_the_database_stops_working_at_once(served: ServedApp, tenant: Tenant) -> None:
    """However a key is revoked (here by hand in SQL), every process forgets it: a NOTIFY from
    the table's trigger (migrations/0021)."""
    key = tenant.keys["support"]
    key_id = UUID(hex=key[len(PREFIX) : len(PREFIX) + 32])
    with served.client(key) as client:
        assert client.get("/v1/customers").status_code == 200
        with psycopg.connect(served.system.database_url, autocommit=True) as conn:
            conn.execute("UPDATE api_keys SET revoked_at = now() WHERE id = %s", (key_id,))
        refused_soon(client, "/v1/customers")

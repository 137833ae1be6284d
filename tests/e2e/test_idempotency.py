"""Idempotency-Key: a repeat returns the first response; another body with the key is 409."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Tenant


def customers_named(tenant: Tenant, name: str) -> list[dict]:
    items = tenant.emp.get("/v1/customers", params={"limit": 500}).json()["items"]
    return [item for item in items if item["name"] == name]


def test_a_repeated_request_returns_the_first_response(tenant: Tenant) -> None:
    name = f"Idem {uuid.uuid4().hex[:6]}"
    body = {"name": name, "email": "i@example.com", "account_type": "prepaid"}
    headers = {"Idempotency-Key": "create-1"}

    first = tenant.emp.post("/v1/customers", json=body, headers=headers)
    second = tenant.emp.post("/v1/customers", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert len(customers_named(tenant, name)) == 1


def test_the_same_key_with_another_body_is_a_conflict(tenant: Tenant) -> None:
    headers = {"Idempotency-Key": "create-2"}
    body = {"name": "A", "email": "a@example.com", "account_type": "prepaid"}
    tenant.emp.post("/v1/customers", json=body, headers=headers)

    response = tenant.emp.post("/v1/customers", json={**body, "name": "B"}, headers=headers)

    assert response.status_code == 409
    assert response.json()["type"] == "https://chargeledger.dev/problems/idempotency-conflict"
    assert customers_named(tenant, "B") == []


def test_parallel_repeats_create_one_customer(tenant: Tenant) -> None:
    name = f"Race {uuid.uuid4().hex[:6]}"
    body = {"name": name, "email": "r@example.com", "account_type": "postpaid"}

    def send(_: int) -> tuple[int, str]:
        response = tenant.emp.post("/v1/customers", json=body, headers={"Idempotency-Key": name})
        return response.status_code, response.json().get("id", "")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(8)))

    assert {status for status, _ in results} == {201}
    assert len({customer_id for _, customer_id in results}) == 1
    assert len(customers_named(tenant, name)) == 1


def test_keys_are_scoped_to_the_caller(tenant: Tenant, other_tenant: Tenant) -> None:
    body = {"name": "Scoped", "email": "s@example.com", "account_type": "prepaid"}
    headers = {"Idempotency-Key": "shared-key"}

    mine = tenant.emp.post("/v1/customers", json=body, headers=headers)
    theirs = other_tenant.emp.post("/v1/customers", json=body, headers=headers)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_errors_are_replayed_too(tenant: Tenant) -> None:
    customer = tenant.emp.post(
        "/v1/customers", json={"name": "D", "email": "d@example.com", "account_type": "prepaid"}
    ).json()
    body = {"name": "D", "email": "d@example.com", "account_type": "prepaid", "external_ref": None}
    headers = {"Idempotency-Key": "bad-1"}
    first = tenant.emp.post("/v1/customers", json={**body, "account_type": "other"}, headers=headers)
    again = tenant.emp.post("/v1/customers", json={**body, "account_type": "other"}, headers=headers)
    assert first.status_code == again.status_code == 400
    assert first.json() == again.json()
    assert customer["id"]

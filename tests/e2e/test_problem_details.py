"""Bad input gets problem details that name the field, and nothing recorded is lost."""

from __future__ import annotations

import pytest

from tests.conftest import ServedApp, Tenant

VALID = {"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "nickname": "x"}, "nickname"),
        ({"name": "Ann", "email": "ann@example.com"}, "account_type"),
        ({**VALID, "account_type": "credit"}, "account_type"),
        ({**VALID, "name": 42}, "name"),
        ({**VALID, "name": ""}, "name"),
        ({**VALID, "email": "not-an-address"}, "email"),
        ({**VALID, "external_ref": 7}, "external_ref"),
        ({**VALID, "name": "Card 4242 4242 4242 4242"}, "name"),
    ],
)
def test_invalid_customer_bodies_name_the_field(tenant: Tenant, body: dict, field: str) -> None:
    response = tenant.emp.post("/v1/customers", json=body)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://chargeledger.dev/problems/validation-error"
    assert problem["status"] == 400
    assert problem["title"]
    assert field in problem["detail"]
    assert field in [error["field"] for error in problem["errors"]]


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"token": "4242424242424242"}, "token"),
        ({"last4": "42"}, "last4"),
        ({"exp_month": 13}, "exp_month"),
        ({"exp_year": "2030"}, "exp_year"),
        ({"pan": "4000056655665556"}, "pan"),
    ],
)
def test_invalid_cards_are_refused_and_the_stored_one_kept(tenant: Tenant, card: dict, field: str) -> None:
    good = {
        "token": "tok_visa",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
    customer = tenant.emp.post("/v1/customers", json=VALID).json()
    url = f"/v1/customers/{customer['id']}/payment-card"
    tenant.emp.put(url, json=good)

    response = tenant.emp.put(url, json={**good, **card})

    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert tenant.emp.get(f"/v1/customers/{customer['id']}").json()["payment_card"]["last4"] == "4242"


def test_a_body_that_is_not_json_is_a_validation_error(tenant: Tenant) -> None:
    response = tenant.emp.post(
        "/v1/customers", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/validation-error")


def test_unknown_currency_is_refused(admin) -> None:  # type: ignore[no-untyped-def]
    response = admin.post("/v1/emps", json={"name": "X", "currency": "EUX"})
    assert response.status_code == 400
    assert "currency" in response.json()["detail"]


def test_an_oversized_body_is_refused(tenant: Tenant) -> None:
    response = tenant.emp.post("/v1/customers", json={**VALID, "name": "x" * 2_000_000})
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")


def test_unknown_routes_are_problem_details(served: ServedApp, tenant: Tenant) -> None:
    response = tenant.emp.get("/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_openapi_describes_the_contract(served: ServedApp) -> None:
    with served.client() as client:
        paths = client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/v1/emps",
        "/v1/emps/{emp_id}/api-keys",
        "/v1/customers",
        "/v1/customers/{customer_id}",
        "/v1/customers/{customer_id}/payment-card",
        "/v1/customers/{customer_id}/auto-top-up",
        "/v1/customers/{customer_id}/balance",
        "/health",
    ):
        assert path in paths, path

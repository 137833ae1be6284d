"""What a client sees when its input is refused, and the content types it gets back, over real
HTTP: e-mail addresses need a domain with a dot and the error says so in words, a body that is
not JSON is 415 with the field named, and every content type carries one charset."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ServedApp, Tenant

CUSTOMER = {"name": "Ann Driver", "account_type": "prepaid"}


@pytest.mark.parametrize("email", ["a@b", "ann@localhost", "ann@example.", "ann@.com", "ann example.com"])
def test_an_email_without_a_domain_with_a_dot_is_refused_in_words(tenant: Tenant, email: str) -> None:
    response = tenant.emp.post("/v1/customers", json={**CUSTOMER, "email": email})

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "email",
            "message": "email: must be an e-mail address: a name, '@' and a domain with a dot"
            " (ann@example.com)",
        }
    ]
    assert "regex" not in problem["detail"] and "\\" not in problem["detail"] and "^" not in problem["detail"]


@pytest.mark.parametrize("email", ["a@b.fi", "ann.driver+ev@mail.example.com"])
def test_an_email_with_a_domain_with_a_dot_is_accepted(tenant: Tenant, email: str) -> None:
    response = tenant.emp.post("/v1/customers", json={**CUSTOMER, "email": email})

    assert response.status_code == 201, response.text
    assert response.json()["email"] == email


def test_no_field_error_shows_a_regular_expression(tenant: Tenant) -> None:
    response = tenant.emp.put(
        "/v1/customers/00000000-0000-0000-0000-000000000000/payment-card",
        json={"token": "visa", "brand": "visa", "last4": "42", "exp_month": 12, "exp_year": 2030},
    )

    assert response.status_code == 400, response.text
    assert "regex" not in response.text
    assert response.json()["errors"][0]["message"] == (
        "token: must be a card token from the payment gateway (tok_visa, pm_card_visa)"
    )


def test_a_form_encoded_body_is_415_with_the_content_type_named(tenant: Tenant) -> None:
    before = tenant.emp.get("/v1/customers", params={"limit": 500}).json()["items"]

    response = tenant.emp.post(
        "/v1/customers", data={"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}
    )

    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/unsupported-media-type")
    assert problem["errors"][0]["field"] == "content-type"
    assert "application/x-www-form-urlencoded" in problem["detail"]
    assert tenant.emp.get("/v1/customers", params={"limit": 500}).json()["items"] == before


def test_a_text_body_is_415_and_json_with_a_charset_is_read(tenant: Tenant) -> None:
    body = '{"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid"}'

    as_text = tenant.emp.post("/v1/customers", content=body, headers={"content-type": "text/plain"})
    as_json = tenant.emp.post(
        "/v1/customers", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )

    assert as_text.status_code == 415, as_text.text
    assert as_json.status_code == 201, as_json.text


@pytest.mark.parametrize("path", ["/v1/exports/sessions", "/v1/exports/transactions"])
def test_a_csv_export_names_one_charset(tenant: Tenant, path: str) -> None:
    response = tenant.emp.get(path)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


def test_the_metrics_name_one_charset(served: ServedApp) -> None:
    response = httpx.get(f"{served.base_url}/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].count("charset") == 1

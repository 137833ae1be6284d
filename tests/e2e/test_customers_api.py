"""The customer slice of the contract, spoken over real HTTP."""

from __future__ import annotations

import uuid

from tests.conftest import Tenant

CARD = {"token": "tok_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}


def register(tenant: Tenant, **fields: object) -> dict:
    body = {"name": "Ann Driver", "email": "ann@example.com", "account_type": "prepaid", **fields}
    response = tenant.emp.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_registered_customer_reads_back_with_defaults(tenant: Tenant) -> None:
    created = register(tenant)

    fetched = tenant.emp.get(f"/v1/customers/{created['id']}").json()

    assert fetched == created
    assert fetched["account_type"] == "prepaid"
    assert fetched["currency"] == "EUR"
    assert fetched["balance_minor"] == 0
    assert fetched["payment_card"] is None
    assert fetched["auto_top_up"] == {
        "enabled": False,
        "threshold_minor": 1000,
        "amount_minor": 3000,
    }
    assert fetched["created_at"].endswith("Z")


def test_storing_a_card_shows_only_its_display_data(tenant: Tenant) -> None:
    customer = register(tenant)

    response = tenant.emp.put(f"/v1/customers/{customer['id']}/payment-card", json=CARD)

    assert response.status_code == 200, response.text
    assert response.json()["payment_card"] == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
    assert "tok_visa" not in response.text


def test_a_declined_card_is_refused_and_nothing_is_stored(tenant: Tenant) -> None:
    customer = register(tenant)
    url = f"/v1/customers/{customer['id']}/payment-card"
    tenant.emp.put(url, json=CARD)

    response = tenant.emp.put(url, json={**CARD, "token": "tok_chargeDeclined", "last4": "0002"})

    assert response.status_code == 402
    assert response.json()["type"].endswith("/payment-declined")
    assert tenant.emp.get(f"/v1/customers/{customer['id']}").json()["payment_card"]["last4"] == "4242"


def test_auto_top_up_needs_a_card_and_takes_emp_defaults(tenant: Tenant) -> None:
    customer = register(tenant)
    url = f"/v1/customers/{customer['id']}/auto-top-up"

    refused = tenant.emp.put(url, json={"enabled": True})
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/card-required")

    tenant.emp.put(f"/v1/customers/{customer['id']}/payment-card", json=CARD)
    enabled = tenant.emp.put(url, json={"enabled": True, "threshold_minor": 500})
    assert enabled.status_code == 200
    assert enabled.json()["auto_top_up"] == {
        "enabled": True,
        "threshold_minor": 500,
        "amount_minor": 3000,
    }


def test_removing_the_card_withdraws_auto_top_up(tenant: Tenant) -> None:
    customer = register(tenant)
    base = f"/v1/customers/{customer['id']}"
    tenant.emp.put(f"{base}/payment-card", json=CARD)
    tenant.emp.put(f"{base}/auto-top-up", json={"enabled": True})

    response = tenant.emp.delete(f"{base}/payment-card")

    assert response.status_code == 200
    assert response.json()["payment_card"] is None
    assert response.json()["auto_top_up"]["enabled"] is False


def test_postpaid_accounts_cannot_enable_auto_top_up(tenant: Tenant) -> None:
    customer = register(tenant, account_type="postpaid")
    tenant.emp.put(f"/v1/customers/{customer['id']}/payment-card", json=CARD)

    response = tenant.emp.put(f"/v1/customers/{customer['id']}/auto-top-up", json={"enabled": True})

    assert response.status_code == 422
    assert response.json()["type"].endswith("/top-up-not-applicable")


def test_balance_of_a_new_customer_is_zero_in_the_emp_currency(tenant: Tenant) -> None:
    customer = register(tenant)

    balance = tenant.emp.get(f"/v1/customers/{customer['id']}/balance").json()

    assert balance["balance_minor"] == 0
    assert balance["currency"] == "EUR"
    assert balance["as_of"].endswith("Z")


def test_external_ref_is_unique_per_emp(tenant: Tenant, other_tenant: Tenant) -> None:
    ref = f"crm-{uuid.uuid4().hex[:8]}"
    first = register(tenant, external_ref=ref)

    again = tenant.emp.post(
        "/v1/customers",
        json={
            "name": "Ann Driver",
            "email": "ann@example.com",
            "account_type": "prepaid",
            "external_ref": ref,
        },
    )
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]

    other_data = tenant.emp.post(
        "/v1/customers",
        json={
            "name": "Someone Else",
            "email": "x@example.com",
            "account_type": "prepaid",
            "external_ref": ref,
        },
    )
    assert other_data.status_code == 409
    assert other_data.json()["type"].endswith("/duplicate")

    elsewhere = register(other_tenant, external_ref=ref)
    assert elsewhere["id"] != first["id"]


def test_customers_list_pages_with_a_cursor(tenant: Tenant) -> None:
    ids = [register(tenant, name=f"Driver {n}")["id"] for n in range(5)]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = tenant.emp.get("/v1/customers", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ids


def test_reads_reflect_writes_immediately(tenant: Tenant) -> None:
    """Read-your-writes: each read right after a write's response shows that write."""
    for _ in range(10):
        customer = register(tenant)
        fetched = tenant.emp.get(f"/v1/customers/{customer['id']}")
        assert fetched.status_code == 200
        put = tenant.emp.put(f"/v1/customers/{customer['id']}/payment-card", json=CARD)
        assert put.status_code == 200
        assert tenant.emp.get(f"/v1/customers/{customer['id']}").json()["payment_card"] is not None


def test_an_external_ref_another_customer_holds_is_a_duplicate_never_a_500(tenant: Tenant) -> None:
    ref = f"crm-{uuid.uuid4().hex[:8]}"
    ann = register(tenant, name="Ann Holder", external_ref=ref)
    ben = register(tenant, name="Ben Other", email="ben@example.com", external_ref=f"{ref}-ben")
    cleo = register(tenant, name="Cleo Later", email="cleo@example.com")

    taken = tenant.emp.patch(f"/v1/customers/{ben['id']}", json={"external_ref": ref})
    also_taken = tenant.emp.patch(f"/v1/customers/{cleo['id']}", json={"external_ref": ref, "name": "C"})
    own = tenant.emp.patch(f"/v1/customers/{ann['id']}", json={"external_ref": ref})  # unchanged
    moved = tenant.emp.patch(f"/v1/customers/{ben['id']}", json={"external_ref": f"{ref}-moved"})
    # The reference Ben moved to, asked for at registration by someone else: also a duplicate.
    registered = tenant.emp.post(
        "/v1/customers",
        json={
            "name": "Dan",
            "email": "dan@example.com",
            "account_type": "prepaid",
            "external_ref": f"{ref}-moved",
        },
    )
    cleo_takes_the_moved = tenant.emp.patch(
        f"/v1/customers/{cleo['id']}", json={"external_ref": f"{ref}-moved"}
    )

    for refused in (taken, also_taken, registered, cleo_takes_the_moved):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/duplicate") and "external_ref" in refused.text
    assert own.status_code == 200 and own.json()["external_ref"] == ref
    assert moved.status_code == 200 and moved.json()["external_ref"] == f"{ref}-moved"
    assert tenant.emp.get(f"/v1/customers/{cleo['id']}").json()["name"] == "Cleo Later"  # nothing changed
    assert tenant.emp.get(f"/v1/customers/{cleo['id']}").json()["external_ref"] is None
    refs = [c["external_ref"] for c in tenant.emp.get("/v1/customers", params={"limit": 100}).json()["items"]]
    assert sorted(r for r in refs if r) == sorted([ref, f"{ref}-moved"])

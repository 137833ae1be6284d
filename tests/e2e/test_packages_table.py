"""Seed 003's packages table, row by row, allowed and refused, through the HTTP API."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant
from tests.e2e.ledger_story import (
    CARD,
    DECLINING_CARD,
    balance,
    customer,
    define_catalog,
    problem_code,
    subscribe,
    top_up,
    transactions,
)


@pytest.fixture
def shop(tenant: Tenant) -> Tenant:
    define_catalog(tenant)
    return tenant


def buy(tenant: Tenant, subscription_id: str, code: str):  # type: ignore[no-untyped-def]
    return tenant.emp.post(f"/v1/subscriptions/{subscription_id}/packages", json={"package": code})


# --- the catalog accepts only packages the table knows ---------------------------------


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"kind": "base", "recurring": False, "payment": "prepaid"}, "recurring"),
        ({"kind": "base", "recurring": True, "payment": "any"}, "payment"),
        ({"kind": "bolt_on", "recurring": True, "payment": "any"}, "payment"),
        ({"kind": "bolt_on", "recurring": False, "payment": "prepaid"}, "payment"),
        ({"kind": "bolt_on", "recurring": False, "payment": "postpaid"}, "payment"),
        ({"kind": "top_up", "recurring": True, "payment": "prepaid"}, "recurring"),
        ({"kind": "top_up", "recurring": False, "payment": "postpaid"}, "payment"),
        ({"kind": "top_up", "recurring": False, "payment": "any"}, "payment"),
    ],
)
def test_the_catalog_refuses_packages_the_table_does_not_know(
    tenant: Tenant, terms: dict, field: str
) -> None:
    response = tenant.emp.post("/v1/packages", json={"code": "X", "name": "X", "price_minor": 100, **terms})
    assert response.status_code == 422
    assert problem_code(response) == "package-not-allowed"
    assert field in response.json()["detail"] or field == response.json()["errors"][0]["field"]


def test_package_codes_are_unique_per_emp(shop: Tenant) -> None:
    again = shop.emp.post(
        "/v1/packages",
        json={
            "code": "ONCE",
            "name": "Once",
            "kind": "bolt_on",
            "recurring": False,
            "payment": "any",
            "price_minor": 500,
        },
    )
    assert again.status_code == 200
    other = shop.emp.post(
        "/v1/packages",
        json={
            "code": "ONCE",
            "name": "Once",
            "kind": "bolt_on",
            "recurring": False,
            "payment": "any",
            "price_minor": 999,
        },
    )
    assert other.status_code == 409
    assert problem_code(other) == "duplicate"
    codes = [p["code"] for p in shop.emp.get("/v1/packages").json()["items"]]
    assert codes == sorted(codes) and "ONCE" in codes


# --- Prepaid > Base ----------------------------------------------------------------------


def test_prepaid_base_is_acquired_at_subscription_creation(shop: Tenant) -> None:
    ann = customer(shop)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    assert subscription["tariff"] == "prepaid"
    assert [(p["code"], p["kind"], p["recurring"], p["status"]) for p in subscription["packages"]] == [
        ("BASE-PRE", "base", True, "active")
    ]
    assert balance(shop, ann["id"]) == 0  # charged later by the Recurring Prepayment job


def test_prepaid_subscription_refuses_a_postpaid_base(shop: Tenant) -> None:
    ann = customer(shop)
    response = shop.emp.post(
        "/v1/subscriptions", json={"customer_id": ann["id"], "base_package": "BASE-POST"}
    )
    assert response.status_code == 422
    assert problem_code(response) == "package-not-allowed"


def test_a_subscription_needs_a_base_package(shop: Tenant) -> None:
    ann = customer(shop)
    response = shop.emp.post("/v1/subscriptions", json={"customer_id": ann["id"], "base_package": "BOLT-PRE"})
    assert problem_code(response) == "package-not-allowed"


def test_a_base_package_is_not_bought_later(shop: Tenant) -> None:
    ann = customer(shop)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    assert problem_code(buy(shop, subscription["id"], "BASE-PRE")) == "package-not-allowed"


# --- Prepaid > Bolt-on > Recurring ------------------------------------------------------


def test_prepaid_recurring_bolt_on_is_bought_and_paid_later(shop: Tenant) -> None:
    ann = customer(shop)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    bought = buy(shop, subscription["id"], "BOLT-PRE")
    assert bought.status_code == 201
    assert bought.json()["recurring"] is True
    assert balance(shop, ann["id"]) == 0
    assert problem_code(buy(shop, subscription["id"], "BOLT-POST")) == "package-not-allowed"


def test_recurring_bolt_ons_need_not_run_concurrently(shop: Tenant) -> None:
    ann = customer(shop)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    first = buy(shop, subscription["id"], "BOLT-PRE").json()
    cancelled = shop.emp.delete(f"/v1/subscriptions/{subscription['id']}/packages/{first['id']}")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    second = buy(shop, subscription["id"], "BOLT-PRE")
    assert second.status_code == 201
    statuses = [
        p["status"] for p in shop.emp.get(f"/v1/subscriptions/{subscription['id']}").json()["packages"]
    ]
    assert statuses == ["active", "cancelled", "active"]


# --- Prepaid > Bolt-on > Non-recurring ---------------------------------------------------


def test_prepaid_non_recurring_bolt_on_is_paid_up_front_from_the_balance(shop: Tenant) -> None:
    ann = customer(shop, card=CARD)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    top_up(shop, ann["id"], 800)

    bought = buy(shop, subscription["id"], "ONCE")

    assert bought.status_code == 201
    assert balance(shop, ann["id"]) == 300
    debit = transactions(shop, ann["id"])[-1]
    assert (debit["type"], debit["amount_minor"], debit["balance_after_minor"]) == ("prepayment", -500, 300)


def test_prepaid_non_recurring_bolt_on_is_refused_when_the_balance_is_short(shop: Tenant) -> None:
    ann = customer(shop, card=CARD)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    top_up(shop, ann["id"], 499)

    response = buy(shop, subscription["id"], "ONCE")

    assert response.status_code == 422
    assert problem_code(response) == "insufficient-balance"
    assert balance(shop, ann["id"]) == 499
    packages = shop.emp.get(f"/v1/subscriptions/{subscription['id']}").json()["packages"]
    assert [p["code"] for p in packages] == ["BASE-PRE"]


# --- Prepaid > Top-up ---------------------------------------------------------------------


def test_prepaid_top_up_package_is_paid_by_card_and_credits_the_balance(shop: Tenant) -> None:
    ann = customer(shop, card=CARD)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")

    bought = buy(shop, subscription["id"], "TOPUP-20")

    assert bought.status_code == 201
    assert balance(shop, ann["id"]) == 2000
    kinds = [(t["type"], t["amount_minor"]) for t in transactions(shop, ann["id"])]
    assert kinds == [("prepayment", -2000), ("payment", 2000), ("top_up", 2000)]


def test_a_top_up_package_without_a_card_is_refused(shop: Tenant) -> None:
    ann = customer(shop)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    response = buy(shop, subscription["id"], "TOPUP-20")
    assert response.status_code == 422
    assert problem_code(response) == "card-required"


def test_a_declined_top_up_package_changes_nothing(shop: Tenant) -> None:
    ann = customer(shop, card=DECLINING_CARD)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    response = buy(shop, subscription["id"], "TOPUP-20")
    assert response.status_code == 402
    assert problem_code(response) == "payment-declined"
    assert balance(shop, ann["id"]) == 0
    assert transactions(shop, ann["id"]) == []
    packages = shop.emp.get(f"/v1/subscriptions/{subscription['id']}").json()["packages"]
    assert [p["code"] for p in packages] == ["BASE-PRE"]


# --- Postpaid > Base, Bolt-on recurring -----------------------------------------------------


def test_postpaid_base_and_recurring_bolt_on_are_billed_on_the_invoice(shop: Tenant) -> None:
    bob = customer(shop, "postpaid")
    subscription = subscribe(shop, bob["id"], "BASE-POST")
    assert subscription["tariff"] == "postpaid"
    assert buy(shop, subscription["id"], "BOLT-POST").status_code == 201
    assert problem_code(buy(shop, subscription["id"], "BOLT-PRE")) == "package-not-allowed"
    assert balance(shop, bob["id"]) == 0
    carl = customer(shop, "postpaid")
    refused = shop.emp.post("/v1/subscriptions", json={"customer_id": carl["id"], "base_package": "BASE-PRE"})
    assert problem_code(refused) == "package-not-allowed"


def test_a_customer_has_one_subscription(shop: Tenant) -> None:
    ann = customer(shop)
    subscribe(shop, ann["id"], "BASE-PRE")
    again = shop.emp.post("/v1/subscriptions", json={"customer_id": ann["id"], "base_package": "BASE-PRE"})
    assert again.status_code == 409
    assert problem_code(again) == "duplicate"


# --- Postpaid > Bolt-on > Non-recurring > Purchase PREPAID ------------------------------------


def test_postpaid_non_recurring_bolt_on_is_paid_up_front_by_card(shop: Tenant) -> None:
    bob = customer(shop, "postpaid", card=CARD)
    subscription = subscribe(shop, bob["id"], "BASE-POST")

    bought = buy(shop, subscription["id"], "ONCE")

    assert bought.status_code == 201
    assert balance(shop, bob["id"]) == 0
    kinds = [(t["type"], t["amount_minor"]) for t in transactions(shop, bob["id"])]
    assert kinds == [("prepayment", -500), ("payment", 500)]


def test_postpaid_non_recurring_bolt_on_needs_a_card(shop: Tenant) -> None:
    bob = customer(shop, "postpaid")
    subscription = subscribe(shop, bob["id"], "BASE-POST")
    assert problem_code(buy(shop, subscription["id"], "ONCE")) == "card-required"


def test_postpaid_non_recurring_bolt_on_declined(shop: Tenant) -> None:
    bob = customer(shop, "postpaid", card=DECLINING_CARD)
    subscription = subscribe(shop, bob["id"], "BASE-POST")
    response = buy(shop, subscription["id"], "ONCE")
    assert response.status_code == 402
    assert transactions(shop, bob["id"]) == []


# --- Postpaid > Top-up ------------------------------------------------------------------------


def test_postpaid_top_up_is_not_applicable(shop: Tenant) -> None:
    bob = customer(shop, "postpaid", card=CARD)
    subscription = subscribe(shop, bob["id"], "BASE-POST")
    assert problem_code(buy(shop, subscription["id"], "TOPUP-20")) == "top-up-not-applicable"
    assert problem_code(top_up(shop, bob["id"], 1000)) == "top-up-not-applicable"
    assert balance(shop, bob["id"]) == 0


# --- tenancy ----------------------------------------------------------------------------------


def test_another_emps_subscription_is_not_found(shop: Tenant, other_tenant: Tenant) -> None:
    ann = customer(shop)
    subscription = subscribe(shop, ann["id"], "BASE-PRE")
    assert other_tenant.emp.get(f"/v1/subscriptions/{subscription['id']}").status_code == 404
    assert buy(other_tenant, subscription["id"], "ONCE").status_code == 404
    response = other_tenant.emp.post(
        "/v1/subscriptions", json={"customer_id": ann["id"], "base_package": "BASE-PRE"}
    )
    assert response.status_code == 404

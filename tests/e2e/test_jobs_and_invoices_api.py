"""Batch jobs by hand over HTTP, their run history, and the invoices they issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import Tenant
from tests.e2e.ledger_story import customer, define_catalog, problem_code, session, subscribe


def run(admin: httpx.Client, job: str, as_of: datetime) -> dict:
    response = admin.post(f"/v1/jobs/{job}/runs", json={"as_of": as_of.isoformat()})
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def test_invoice_production_over_http(admin: httpx.Client, tenant: Tenant) -> None:
    define_catalog(tenant)
    bob = customer(tenant, "postpaid")
    subscription = subscribe(tenant, bob["id"], "BASE-POST")
    session(tenant, bob["id"], 1234)
    started = datetime.fromisoformat(subscription["started_at"].replace("Z", "+00:00"))
    after_first_period = started + timedelta(days=33)

    first = run(admin, "invoice-production", after_first_period)
    again = run(admin, "invoice-production", after_first_period)
    earlier = run(admin, "invoice-production", after_first_period - timedelta(days=1))

    assert first["job"] == "invoice-production" and first["processed"] >= 1
    assert again["processed"] == 0 and earlier["processed"] == 0
    invoices = tenant.emp.get("/v1/invoices", params={"customer_id": bob["id"]}).json()["items"]
    assert len(invoices) == 1
    invoice = tenant.emp.get(f"/v1/invoices/{invoices[0]['id']}").json()
    assert invoice == invoices[0]
    assert invoice["customer_id"] == bob["id"] and invoice["subscription_id"] == subscription["id"]
    assert invoice["currency"] == "EUR"
    assert invoice["sequence"] >= 1 and invoice["number"].startswith("INV-")
    kinds = sorted((line["kind"], line["amount_minor"]) for line in invoice["lines"])
    assert kinds == [("package", 1490), ("session", 1234)]
    assert invoice["total_minor"] == 1490 + 1234 == sum(line["amount_minor"] for line in invoice["lines"])
    for line in invoice["lines"]:
        assert line["net_minor"] + line["vat_minor"] == line["gross_minor"] == line["amount_minor"]


def test_run_history_is_listed_newest_first(admin: httpx.Client) -> None:
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    made = [run(admin, job, as_of)["run_id"] for job in ("recurring-prepayment", "recurring-payment")]

    runs = admin.get("/v1/jobs/runs", params={"limit": 2}).json()

    assert [item["run_id"] for item in runs["items"]] == made[::-1]
    assert all(item["status"] == "finished" and item["finished_at"] for item in runs["items"])
    assert runs["next_cursor"] is None or isinstance(runs["next_cursor"], str)


def test_jobs_are_for_the_admin_and_known_names(admin: httpx.Client, tenant: Tenant) -> None:
    as_of = {"as_of": "2026-01-01T00:00:00Z"}
    assert tenant.emp.post("/v1/jobs/invoice-production/runs", json=as_of).status_code == 403
    assert tenant.emp.get("/v1/jobs/runs").status_code == 403
    unknown = admin.post("/v1/jobs/make-money/runs", json=as_of)
    assert unknown.status_code == 400 and problem_code(unknown) == "validation-error"
    naive = admin.post("/v1/jobs/invoice-production/runs", json={"as_of": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and "as_of" in naive.json()["detail"]


def test_another_emps_invoice_is_not_found(admin: httpx.Client, tenant: Tenant, other_tenant: Tenant) -> None:
    define_catalog(tenant)
    bob = customer(tenant, "postpaid")
    subscription = subscribe(tenant, bob["id"], "BASE-POST")
    started = datetime.fromisoformat(subscription["started_at"].replace("Z", "+00:00"))
    run(admin, "invoice-production", started + timedelta(days=33))
    [invoice] = tenant.emp.get("/v1/invoices", params={"customer_id": bob["id"]}).json()["items"]
    assert other_tenant.emp.get(f"/v1/invoices/{invoice['id']}").status_code == 404
    assert other_tenant.emp.get("/v1/invoices", params={"customer_id": bob["id"]}).json()["items"] == []
    assert tenant.as_role("auditor").get(f"/v1/invoices/{invoice['id']}").status_code == 200

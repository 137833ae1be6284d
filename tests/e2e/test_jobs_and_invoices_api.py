"""Batch jobs by hand over HTTP, their run history, and the invoices they issue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import ServedApp, Tenant, make_tenant
from tests.e2e.ledger_story import (
    advance,
    customer,
    define_catalog,
    instant,
    problem_code,
    session,
    subscribe,
)


def run(admin: httpx.Client, job: str, as_of: datetime, emp_id: str | None = None) -> dict:
    body = {"as_of": as_of.isoformat(), **({"emp_id": emp_id} if emp_id else {})}
    response = admin.post(f"/v1/jobs/{job}/runs", json=body)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def clocked_tenant(served: ServedApp, admin: httpx.Client) -> Tenant:
    """An EMP on a test clock at the real now: its jobs run when its clock moves, over it alone."""
    return make_tenant(served, admin, test_clock=datetime.now(UTC).replace(microsecond=0))


def test_invoice_production_over_http(served: ServedApp, admin: httpx.Client) -> None:
    tenant = clocked_tenant(served, admin)
    define_catalog(tenant)
    bob = customer(tenant, "postpaid")
    subscription = subscribe(tenant, bob["id"], "BASE-POST")
    session(tenant, bob["id"], 1234)
    after_first_period = instant(subscription["started_at"]) + timedelta(days=33)

    moved = advance(tenant, after_first_period)
    again = run(admin, "invoice-production", after_first_period, emp_id=tenant.id)
    earlier = run(admin, "invoice-production", after_first_period - timedelta(days=1), emp_id=tenant.id)

    issuing = [r for r in moved["job_runs"] if r["job"] == "invoice-production" and r["processed"]]
    assert [r["processed"] for r in issuing] == [1]
    assert again["processed"] == 0 and earlier["processed"] == 0
    invoices = tenant.emp.get("/v1/invoices", params={"customer_id": bob["id"]}).json()["items"]
    assert len(invoices) == 1
    invoice = tenant.emp.get(f"/v1/invoices/{invoices[0]['id']}").json()
    assert invoice == invoices[0]
    assert invoice["customer_id"] == bob["id"] and invoice["subscription_id"] == subscription["id"]
    assert invoice["currency"] == "EUR"
    assert invoice["sequence"] == 1 and invoice["number"] == "INV-000001"
    assert instant(invoice["issued_at"]) >= instant(invoice["period_end"])
    kinds = sorted((line["kind"], line["amount_minor"]) for line in invoice["lines"])
    assert kinds[1] == ("session", 1234) and kinds[0][0] == "package"
    assert invoice["total_minor"] == sum(line["amount_minor"] for line in invoice["lines"])
    for line in invoice["lines"]:
        assert line["net_minor"] + line["vat_minor"] == line["gross_minor"] == line["amount_minor"]
    tenant.close()


def test_an_as_of_after_the_present_is_refused_and_bills_nothing(
    served: ServedApp, admin: httpx.Client, tenant: Tenant
) -> None:
    clocked = clocked_tenant(served, admin)
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    everyone = admin.post("/v1/jobs/invoice-production/runs", json={"as_of": tomorrow.isoformat()})
    ahead_of_its_clock = admin.post(
        "/v1/jobs/invoice-production/runs", json={"as_of": tomorrow.isoformat(), "emp_id": clocked.id}
    )
    advance(clocked, tomorrow + timedelta(hours=1), run_jobs=False)
    within_its_clock = admin.post(
        "/v1/jobs/invoice-production/runs", json={"as_of": tomorrow.isoformat(), "emp_id": clocked.id}
    )
    unknown = admin.post(
        "/v1/jobs/invoice-production/runs",
        json={"as_of": "2026-01-01T00:00:00Z", "emp_id": str(uuid.uuid4())},
    )

    for refused in (everyone, ahead_of_its_clock):
        assert refused.status_code == 422 and problem_code(refused) == "invalid-period"
        assert refused.json()["errors"][0]["field"] == "as_of"
    assert within_its_clock.status_code == 200 and within_its_clock.json()["emp_id"] == clocked.id
    assert unknown.status_code == 404
    clocked.close()


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


def test_another_emps_invoice_is_not_found(
    served: ServedApp, admin: httpx.Client, other_tenant: Tenant
) -> None:
    tenant = clocked_tenant(served, admin)
    define_catalog(tenant)
    bob = customer(tenant, "postpaid")
    subscription = subscribe(tenant, bob["id"], "BASE-POST")
    advance(tenant, instant(subscription["started_at"]) + timedelta(days=33))
    [invoice] = tenant.emp.get("/v1/invoices", params={"customer_id": bob["id"]}).json()["items"]
    assert other_tenant.emp.get(f"/v1/invoices/{invoice['id']}").status_code == 404
    assert other_tenant.emp.get("/v1/invoices", params={"customer_id": bob["id"]}).json()["items"] == []
    assert tenant.as_role("auditor").get(f"/v1/invoices/{invoice['id']}").status_code == 200
    tenant.close()

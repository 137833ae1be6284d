"""What an operator sees over real HTTP: business figures on /metrics, and an address that
keeps sending keys that are not valid is refused for a while, whatever key it sends next."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from api.rate_limit import AuthFailures, RateLimit
from tests.conftest import ADMIN_TOKEN, ServedApp, Tenant, context_for
from tests.e2e.ledger_story import (
    CARD,
    DECLINING_CARD,
    customer,
    session,
    top_up,
    wait_until_payments_settled,
)
from tests.reliability.serving import serving


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition, 0 when it is not there."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if line.split("{")[0].split(" ")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def scrape(served: ServedApp) -> str:
    response = httpx.get(f"{served.base_url}/metrics")
    assert response.status_code == 200
    return response.text


def test_metrics_show_sessions_payments_invoices_outboxes_and_job_runs(
    served: ServedApp, tenant: Tenant, admin: httpx.Client
) -> None:
    before = scrape(served)
    paying = customer(tenant, "prepaid", CARD)
    declined = customer(tenant, "prepaid", CARD)
    assert top_up(tenant, paying["id"], 2000).status_code == 201
    tenant.emp.put(f"/v1/customers/{declined['id']}/payment-card", json=DECLINING_CARD)
    assert top_up(tenant, declined["id"], 2000).status_code == 402
    posted = session(tenant, paying["id"], 450)
    assert posted.status_code == 201
    again = tenant.emp.post("/v1/sessions", json={**_body_of(posted), "customer_id": paying["id"]})
    assert again.status_code == 200
    run = admin.post(
        "/v1/jobs/invoice-production/runs",
        json={"as_of": datetime.now(UTC).isoformat(), "emp_id": tenant.id},
    )
    assert run.status_code == 200, run.text
    wait_until_payments_settled(tenant, paying["id"])

    after = scrape(served)

    assert metric(after, "chargeledger_sessions") >= metric(before, "chargeledger_sessions") + 1
    recorded = metric(after, "chargeledger_session_requests_total", outcome="recorded")
    assert recorded >= metric(before, "chargeledger_session_requests_total", outcome="recorded") + 1
    assert metric(after, "chargeledger_session_requests_total", outcome="repeated") >= 1
    approved = {"purpose": "manual_top_up", "status": "approved"}
    declined_labels = {"purpose": "manual_top_up", "status": "declined"}
    assert (
        metric(after, "chargeledger_card_payments", **approved)
        >= metric(before, "chargeledger_card_payments", **approved) + 1
    )
    assert metric(after, "chargeledger_card_payments", **declined_labels) >= 1
    finished = {"job": "invoice-production", "status": "finished"}
    assert (
        metric(after, "chargeledger_job_runs", **finished)
        >= metric(before, "chargeledger_job_runs", **finished) + 1
    )
    for outbox in ("mail", "webhooks", "card_payments"):
        assert re.search(rf'^chargeledger_outbox_depth\{{outbox="{outbox}"\}} \d', after, re.MULTILINE)
    assert "# TYPE chargeledger_invoices gauge" in after
    for projection in ("subscriptions", "payments", "webhooks"):
        assert re.search(
            rf'^chargeledger_projection_lag_events\{{projection="{projection}"\}} \d', after, re.MULTILINE
        )


def _body_of(response: httpx.Response) -> dict:
    sent: dict = __import__("json").loads(response.request.content)
    return sent


@pytest.fixture
def guarded(served: ServedApp) -> Iterator[ServedApp]:
    """The API with failed authentications limited: three per address, refilled too slowly to
    matter within a test."""
    ctx = context_for(served.system, auth_failures=AuthFailures(RateLimit(rate=0.001, burst=3)))
    with serving(ctx, served.system) as app:
        yield app


def test_an_address_that_keeps_sending_wrong_keys_is_refused_whatever_it_sends(
    guarded: ServedApp, tenant: Tenant
) -> None:
    wrong = [f"clk_{uuid.uuid4().hex}{uuid.uuid4().hex}" for _ in range(4)]
    with httpx.Client(base_url=guarded.base_url) as client:
        answers = [
            client.get("/v1/customers", headers={"Authorization": f"Bearer {key}"}).status_code
            for key in wrong
        ]
        valid_meanwhile = client.get(
            "/v1/customers", headers={"Authorization": f"Bearer {tenant.keys['emp']}"}
        )

    assert answers == [401, 401, 401, 429]
    assert valid_meanwhile.status_code == 429
    assert valid_meanwhile.headers["content-type"] == "application/problem+json"
    assert int(valid_meanwhile.headers["retry-after"]) >= 1
    assert valid_meanwhile.json()["type"].endswith("/rate-limited")

    # Another address is not held back by this one.
    other = httpx.Client(base_url=guarded.base_url, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with other:
        elsewhere = other.get("/v1/customers", headers={"Authorization": f"Bearer {tenant.keys['emp']}"})
        admin = other.get("/v1/jobs/runs", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert elsewhere.status_code == 200, elsewhere.text
    assert admin.status_code == 200, admin.text


def test_valid_keys_spend_nothing_of_the_failure_allowance(guarded: ServedApp, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.keys['emp']}"}
    with httpx.Client(
        base_url=guarded.base_url, transport=httpx.HTTPTransport(local_address="127.0.0.3")
    ) as client:
        answers = {client.get("/v1/customers", headers=headers).status_code for _ in range(10)}
        wrong = client.get("/v1/customers", headers={"Authorization": "Bearer clk_wrong"})

    assert answers == {200}
    assert wrong.status_code == 401

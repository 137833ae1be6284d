"""Small steps of the ledger stories, spoken over HTTP, shared by the end-to-end tests; the
asynchronous payments model's tables are read directly where no route shows them."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.conftest import Tenant
from tests.reliability.crash_serve import wait_until

CARD = {"token": "tok_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
DECLINING_CARD = {**CARD, "token": "tok_chargeCustomerFail", "last4": "0341"}

PACKAGES = {
    "BASE-PRE": {"kind": "base", "recurring": True, "payment": "prepaid", "price_minor": 990},
    "BASE-PRE-PLUS": {"kind": "base", "recurring": True, "payment": "prepaid", "price_minor": 1990},
    "BASE-POST": {"kind": "base", "recurring": True, "payment": "postpaid", "price_minor": 1490},
    "BASE-POST-PLUS": {"kind": "base", "recurring": True, "payment": "postpaid", "price_minor": 2490},
    "BOLT-PRE": {"kind": "bolt_on", "recurring": True, "payment": "prepaid", "price_minor": 300},
    "BOLT-POST": {"kind": "bolt_on", "recurring": True, "payment": "postpaid", "price_minor": 400},
    "ONCE": {"kind": "bolt_on", "recurring": False, "payment": "any", "price_minor": 500},
    "TOPUP-20": {"kind": "top_up", "recurring": False, "payment": "prepaid", "price_minor": 2000},
}


def define_catalog(tenant: Tenant) -> None:
    for code, terms in PACKAGES.items():
        response = tenant.emp.post("/v1/packages", json={"code": code, "name": code.title(), **terms})
        assert response.status_code in (200, 201), response.text


def customer(
    tenant: Tenant, account_type: str = "prepaid", card: dict | None = None, name: str = "Ann Driver"
) -> dict:
    body = {"name": name, "email": "ann@example.com", "account_type": account_type}
    created = tenant.emp.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    found: dict = created.json()
    if card is not None:
        stored = tenant.emp.put(f"/v1/customers/{found['id']}/payment-card", json=card)
        assert stored.status_code == 200, stored.text
    return found


def subscribe(tenant: Tenant, customer_id: str, base: str) -> dict:
    response = tenant.emp.post("/v1/subscriptions", json={"customer_id": customer_id, "base_package": base})
    assert response.status_code == 201, response.text
    result: dict = response.json()
    return result


def advance(tenant: Tenant, to: datetime, *, run_jobs: bool = True) -> dict[str, Any]:
    """Move the tenant's test clock (its jobs run at every scheduled instant passed)."""
    moved = tenant.emp.post(
        f"/v1/emps/{tenant.id}/test-clock/advance", json={"to": to.isoformat(), "run_jobs": run_jobs}
    )
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def top_up(tenant: Tenant, customer_id: str, amount: int) -> Any:
    return tenant.emp.post(f"/v1/customers/{customer_id}/top-ups", json={"amount_minor": amount})


def session(tenant: Tenant, customer_id: str, cost: int, **overrides: Any) -> Any:
    ended = datetime.now(UTC) - timedelta(minutes=1)
    body = {
        "session_id": f"S-{uuid.uuid4().hex[:12]}",
        "customer_id": customer_id,
        "started_at": (ended - timedelta(minutes=40)).isoformat(),
        "ended_at": ended.isoformat(),
        "energy_wh": 12_500,
        "cost_minor": cost,
        "location": "FI-HEL-001",
        **overrides,
    }
    return tenant.emp.post("/v1/sessions", json=body)


def balance(tenant: Tenant, customer_id: str) -> int:
    value: int = tenant.emp.get(f"/v1/customers/{customer_id}/balance").json()["balance_minor"]
    return value


def every_item(tenant: Tenant, path: str) -> list[dict]:
    """Every item of a list, page after page."""
    items: list[dict] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = tenant.emp.get(path, params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def transactions(tenant: Tenant, customer_id: str) -> list[dict]:
    return every_item(tenant, f"/v1/customers/{customer_id}/transactions")


def wait_for_balance(tenant: Tenant, customer_id: str, expected: int, timeout: float = 10.0) -> float:
    """Seconds until the balance reached `expected` (fails after `timeout`: an automatic top-up
    comes from the payment worker, which a loaded machine may keep waiting for seconds)."""
    start = time.monotonic()
    while True:
        if balance(tenant, customer_id) == expected:
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, (
            f"balance {balance(tenant, customer_id)} never became {expected}"
        )
        time.sleep(0.02)


def pending_count(tenant: Tenant, customer_id: str, table: str) -> int:
    """The customer's rows still pending in a table of the payments model (`card_payments`,
    `mail_outbox`)."""
    with psycopg.connect(tenant.served.system.database_url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE customer_id = %s AND status = 'pending'", (customer_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def payments_model_at_head(tenant: Tenant) -> bool:
    """Whether the payments model has applied the whole log, as /health shows it."""
    health = tenant.emp.get("/health").json()
    lag: int = health["projections"]["payments"]["lag"]
    return lag == 0


def refused_soon(client: Any, path: str, timeout: float = 5.0) -> Any:
    """The first 401 a client gets for `path` within `timeout` (another process hears of a
    revocation by a NOTIFY, a moment after it commits)."""

    def refused() -> Any:
        answer = client.get(path)
        return answer if answer.status_code == 401 else None

    return wait_until(refused, f"a 401 for {path}", timeout=timeout, every=0.02)


def wait_until_payments_settled(tenant: Tenant, customer_id: str, timeout: float = 10.0) -> None:
    """Until the payments model has applied the log to its head and none of the customer's card
    payments is pending. An automatic top-up is requested with the debit that triggers it, so
    after this none is in flight and none can follow: the balance is final."""
    deadline = time.monotonic() + timeout
    while not (payments_model_at_head(tenant) and pending_count(tenant, customer_id, "card_payments") == 0):
        assert time.monotonic() < deadline, "the customer's card payments never settled"
        time.sleep(0.02)


def wait_until_mail_sent(tenant: Tenant, customer_id: str, timeout: float = 10.0) -> None:
    """Until every payment-failure mail the customer will get is sent: once sent, a mail is never
    sent again, so the inbox can be counted."""
    wait_until_payments_settled(tenant, customer_id, timeout)
    deadline = time.monotonic() + timeout
    while pending_count(tenant, customer_id, "mail_outbox"):
        assert time.monotonic() < deadline, "the customer's mail was never sent"
        time.sleep(0.02)


def problem_code(response: Any) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    code: str = response.json()["type"].rsplit("/", 1)[1]
    return code

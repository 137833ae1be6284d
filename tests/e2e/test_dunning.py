"""Dunning over HTTP on a test clock (docs/payments.md, "Dunning"): what stays unpaid walks the
ladder - a mail through real SMTP and a `dunning.step` webhook to a real receiver at each step,
then a block that `authorize` and a charge point operator's OCPI authorization both answer -
and paying what is overdue lifts it at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import ServedApp, Tenant
from tests.e2e.ledger_story import (
    CARD,
    DECLINING_CARD,
    advance,
    define_catalog,
    subscribe,
    wait_until_mail_sent,
)
from tests.ocpi_cpo import Connection, LocalCpo, connect, with_token
from tests.smtp import SmtpServer
from tests.webhook_receiver import Receiver

LADDER = [(1, 0), (2, 1), (3, 3), (4, 7), (5, 14)]  # the default ladder: (step, day)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def operator(served: ServedApp, admin: httpx.Client) -> Iterator[Connection]:
    """An EMP on a test clock, connected to a charge point operator over OCPI."""
    cpo = LocalCpo()
    connected = connect(served, admin, cpo, test_clock=datetime.now(UTC).replace(microsecond=0))
    define_catalog(connected.tenant)
    yield connected
    connected.ocpi.close()
    connected.tenant.close()
    cpo.stop()


def dunned_customer(tenant: Tenant, account_type: str, receiver: Receiver, card: dict | None = None) -> Any:
    """A customer with a token and an e-mail of its own; the EMP's endpoint takes dunning.step."""
    made, uid = with_token(tenant, account_type, **({"card": card} if card else {}))
    email = f"dunned-{uuid.uuid4().hex[:8]}@example.com"
    assert tenant.emp.patch(f"/v1/customers/{made['id']}", json={"email": email}).status_code == 200
    hook = tenant.emp.post(
        "/v1/webhook-endpoints",
        json={"url": f"{receiver.base_url}/{made['id']}", "event_types": ["dunning.step"]},
    )
    assert hook.status_code == 201, hook.text
    return made["id"], uid, email


def allowed(connection: Connection, customer_id: str, uid: str) -> tuple[str, str]:
    """What the ledger's own API and the operator's real-time authorization answer."""
    own = connection.tenant.emp.post(f"/v1/customers/{customer_id}/authorize").json()["allowed"]
    asked = connection.ocpi.post(f"/ocpi/2.2.1/tokens/{uid}/authorize", params={"type": "RFID"})
    assert asked.status_code == 200, asked.text
    return own, asked.json()["data"]["allowed"]


def steps_received(receiver: Receiver, customer_id: str, count: int) -> list[dict[str, Any]]:
    found = receiver.wait_for(f"/{customer_id}", lambda got: len(got) >= count)
    return [received.message["data"] for received in found]


def dunning(tenant: Tenant, customer_id: str) -> Any:
    return tenant.emp.get(f"/v1/customers/{customer_id}").json()["dunning"]


def test_an_unpaid_postpaid_invoice_walks_the_ladder_and_a_payment_ends_it(
    operator: Connection, receiver: Receiver, smtp: SmtpServer
) -> None:
    tenant = operator.tenant
    carl, uid, email = dunned_customer(tenant, "postpaid", receiver)
    subscribe(tenant, carl, "BASE-POST")
    now = datetime.fromisoformat(advance(tenant, datetime.now(UTC) + timedelta(days=33))["now"])
    [invoice] = tenant.emp.get("/v1/invoices", params={"customer_id": carl}).json()["items"]
    due = datetime.fromisoformat(invoice["due_at"])
    assert dunning(tenant, carl) is None and allowed(operator, carl, uid) == ("ALLOWED", "ALLOWED")

    day_14 = due + timedelta(days=14, hours=2)  # the jobs run at 01:30 UTC
    now = datetime.fromisoformat(advance(tenant, day_14)["now"])

    state = dunning(tenant, carl)
    assert (state["step"], state["overdue_minor"], state["blocked"]) == (5, invoice["total_minor"], True)
    assert allowed(operator, carl, uid) == ("BLOCKED", "BLOCKED")
    steps = steps_received(receiver, carl, len(LADDER))
    assert [(s["step"], s["day"], s["retried"], s["blocked"]) for s in steps] == [
        (step, day, False, day == 14) for step, day in LADDER
    ]  # postpaid invoices are not charged to cards: each step is a mail
    wait_until_mail_sent(tenant, carl)
    mails = smtp.inbox.wait_for(email, count=len(LADDER))
    assert [m["Subject"] for m in mails] == [
        f"Payment reminder {n}: 14.90 EUR overdue" for n in (1, 2, 3, 4)
    ] + ["Blocked: 14.90 EUR overdue"]

    paid = tenant.emp.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount_minor": invoice["total_minor"], "paid_at": now.isoformat(), "reference": "bank"},
    )
    assert paid.status_code == 201, paid.text

    assert dunning(tenant, carl) is None
    assert allowed(operator, carl, uid) == ("ALLOWED", "ALLOWED")
    advance(tenant, now + timedelta(days=3))
    assert len(smtp.inbox.to(email)) == len(LADDER)  # nothing more once it ended


def test_a_prepaid_customer_whose_card_declines_is_blocked_and_a_new_card_unblocks(
    operator: Connection, receiver: Receiver, smtp: SmtpServer
) -> None:
    tenant = operator.tenant
    ann, uid, email = dunned_customer(tenant, "prepaid", receiver, card=DECLINING_CARD)
    subscribe(tenant, ann, "BASE-PRE")  # 9.90 due today; the card declines it

    started = datetime.fromisoformat(tenant.emp.get(f"/v1/emps/{tenant.id}").json()["test_clock"]["now"])
    advance(tenant, started + timedelta(days=16))

    state = dunning(tenant, ann)
    assert (state["step"], state["overdue_minor"], state["blocked"]) == (5, 990, True)
    assert allowed(operator, ann, uid) == ("BLOCKED", "BLOCKED")
    steps = steps_received(receiver, ann, len(LADDER))
    assert [(s["step"], s["retried"]) for s in steps] == [
        (1, False),
        (2, True),
        (3, True),
        (4, True),
        (5, False),
    ]
    wait_until_mail_sent(tenant, ann)
    subjects = [m["Subject"] for m in smtp.inbox.wait_for(email, count=1 + len(LADDER))]
    assert subjects[0] == "Payment failed: 9.90 EUR (subscription payment)"  # the due date's own payment
    assert subjects[1:] == [f"Payment reminder {n}: 9.90 EUR overdue" for n in (1, 2, 3, 4)] + [
        "Blocked: 9.90 EUR overdue"
    ]

    stored = tenant.emp.put(f"/v1/customers/{ann}/payment-card", json=CARD)
    assert stored.status_code == 200, stored.text

    customer = tenant.emp.get(f"/v1/customers/{ann}").json()
    assert (customer["dunning"], customer["balance_minor"]) == (None, 0)
    assert allowed(operator, ann, uid) == ("NO_CREDIT", "NO_CREDIT")  # its balance decides, no block

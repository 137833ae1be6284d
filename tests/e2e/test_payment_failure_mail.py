"""A declined automatic top-up mails the customer once, through a real SMTP server."""

from __future__ import annotations

import time
import uuid

from tests.conftest import Tenant
from tests.e2e.ledger_story import DECLINING_CARD, session, wait_until_mail_sent
from tests.smtp import SmtpServer


def test_a_declined_automatic_top_up_sends_one_mail(tenant: Tenant, smtp: SmtpServer) -> None:
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    ann = tenant.emp.post(
        "/v1/registrations",
        json={
            "name": "Ann Driver",
            "email": email,
            "account_type": "prepaid",
            "card": DECLINING_CARD,
            "auto_top_up": True,
        },
    ).json()["customer"]

    started = time.monotonic()
    session(tenant, ann["id"], 400)
    [mail] = smtp.inbox.wait_for(email, timeout=10)

    assert time.monotonic() - started < 10
    assert mail["Subject"] == "Payment failed: 30.00 EUR (automatic top-up)"
    body = mail.get_content()
    assert "Hello Ann Driver" in body
    assert "Amount: 30.00 EUR" in body
    assert "your card was declined" in body
    assert mail["Message-ID"].endswith("@chargeledger>")

    session(tenant, ann["id"], 400)  # no new attempt within 24 h, so no new mail
    wait_until_mail_sent(tenant, ann["id"])
    assert len(smtp.inbox.to(email)) == 1

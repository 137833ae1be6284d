"""The payment-failure mail says what failed, how much, when, and what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.notifications import payment_failure_mail


def test_a_declined_automatic_top_up_mail() -> None:
    mail = payment_failure_mail(
        name="Ann Driver",
        purpose="automatic_top_up",
        amount_minor=3000,
        currency="EUR",
        failed_at=datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
        decline_code="card_declined",
    )
    assert mail.subject == "Payment failed: 30.00 EUR (automatic top-up)"
    assert "Hello Ann Driver" in mail.body
    assert "Amount: 30.00 EUR" in mail.body
    assert "2026-11-21 09:30 UTC" in mail.body
    assert "your card was declined" in mail.body
    assert "top up your balance in the customer portal" in mail.body


def test_a_recurring_payment_without_a_card() -> None:
    mail = payment_failure_mail(
        name="Bo",
        purpose="recurring_payment",
        amount_minor=990,
        currency="SEK",
        failed_at=datetime(2026, 2, 1, tzinfo=UTC),
        decline_code="no_card",
    )
    assert "9.90 SEK" in mail.subject
    assert "no payment card is stored" in mail.body

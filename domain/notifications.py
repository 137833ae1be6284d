"""The payment-failure mail, in the customer's terms (seed 000: "automatic email with the
information about the failed payment")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from domain.money import format_amount

WHAT_FAILED = {
    "automatic_top_up": "the automatic top-up of your charging balance",
    "recurring_payment": "the payment of your charging subscription",
}
SHORT_NAMES = {"automatic_top_up": "automatic top-up", "recurring_payment": "subscription payment"}
WHAT_TO_DO = {
    "automatic_top_up": (
        "Please check your payment card, or top up your balance in the customer portal. We will"
        " not try the card again for 24 hours."
    ),
    "recurring_payment": (
        "Please check your payment card or add balance in the customer portal. We will remind you"
        " and try again in the coming days."
    ),
}
REASONS = {
    "card_declined": "your card was declined",
    "insufficient_funds": "your card has insufficient funds",
    "no_card": "no payment card is stored for your account",
    "no_such_token": "your stored card is no longer valid",
    "expired_card": "your card has expired",
    "authentication_required": "your bank asks you to confirm this payment",
}
# What the customer does for a decline that needs them, before the usual advice.
CONFIRM_IN_APP = (
    "Please open your charging provider's app and confirm the payment there; your bank needs"
    " your confirmation before it pays."
)
NOTIFIED_PURPOSES = frozenset(WHAT_FAILED)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    content: bytes


@dataclass(frozen=True)
class OutboxMail:
    """A mail waiting in the outbox."""

    id: UUID
    recipient: str
    subject: str
    body: str
    attempts: int
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def payment_failure_mail(
    *, name: str, purpose: str, amount_minor: int, currency: str, failed_at: datetime, decline_code: str
) -> Mail:
    amount = format_amount(amount_minor, currency)
    when = failed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    what = WHAT_FAILED[purpose]
    reason = REASONS.get(decline_code, "the payment was declined")
    # Short enough to stay on one header line (long subjects get folded oddly by some clients).
    subject = f"Payment failed: {amount} ({SHORT_NAMES[purpose]})"
    body = (
        f"Hello {name},\n\n"
        f"{what[0].upper()}{what[1:]} failed on {when}: {reason}.\n\n"
        f"Amount: {amount}\n\n"
        + (f"{CONFIRM_IN_APP}\n\n" if decline_code == "authentication_required" else "")
        + f"{WHAT_TO_DO[purpose]}\n\n"
        "This is an automatic message about your charging account.\n"
    )
    return Mail(subject, body)


DOCUMENT_NAMES = {"invoice": "Invoice", "credit_note": "Credit note"}


def document_mail(*, kind: str, number: str, name: str, seller: dict[str, object]) -> Mail:
    """An issued invoice or credit note, its PDF attached."""
    who = seller.get("legal_name") or seller.get("emp_name") or "your charging provider"
    document = DOCUMENT_NAMES[kind]
    return Mail(
        f"{document} {number} from {who}",
        f"Hello {name},\n\nplease find attached {document.lower()} {number} from {who}.\n\n"
        "This is an automatic message about your charging account.\n",
    )


def dunning_mail(
    *, name: str, step: int, overdue_minor: int, currency: str, since: datetime, retried: bool, blocked: bool
) -> Mail:
    """A step of dunning (domain/dunning.py): what is overdue since when, and what follows."""
    amount = format_amount(overdue_minor, currency)
    due = since.astimezone(UTC).strftime("%Y-%m-%d")
    subject = f"Blocked: {amount} overdue" if blocked else f"Payment reminder {step}: {amount} overdue"
    retry = "We tried your payment card again, and it was declined.\n\n" if retried else ""
    what_next = (
        "Charging is blocked for your account until the overdue amount is paid; it is lifted at once then."
        if blocked
        else "Please pay the overdue amount (a top-up of your balance, a new payment card or a"
        " payment of your invoice). If it stays unpaid, charging will be blocked for your account."
    )
    body = (
        f"Hello {name},\n\n"
        f"{amount} of your charging account has been overdue since {due}.\n\n"
        f"{retry}{what_next}\n\n"
        "This is an automatic message about your charging account.\n"
    )
    return Mail(subject, body)

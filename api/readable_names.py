"""The words the support page uses for event types and card decline codes: "Prepayment
debited", not PrepaymentDebited; "Insufficient funds", not insufficient_funds. A name not listed
reads as its own words (PackageAcquired: "Package acquired")."""

from __future__ import annotations

import re

EVENT_NAMES = {
    "SessionCharged": "Charging session",
    "SessionCredited": "Session credited by the operator",
    "TopUpApplied": "Top-up",
    "PrepaymentDebited": "Prepayment debited",
    "UnusedDaysCredited": "Unused days credited",
    "PaymentTaken": "Card payment",
    "PaymentFailed": "Card payment failed",
    "AdjustmentRecorded": "Adjustment",
    "InvoiceCredited": "Invoice credited",
}

# The gateways' codes (commands/simulated_gateway.py, Stripe's decline codes).
DECLINE_REASONS = {
    "insufficient_funds": "Insufficient funds",
    "card_declined": "Card declined",
    "generic_decline": "Card declined",
    "do_not_honor": "Declined by the card's bank",
    "expired_card": "Card expired",
    "incorrect_number": "Incorrect card number",
    "incorrect_cvc": "Incorrect security code",
    "invalid_account": "Card account not valid",
    "lost_card": "Card reported lost",
    "stolen_card": "Card reported stolen",
    "pickup_card": "Card withdrawn by its bank",
    "fraudulent": "Suspected fraud",
    "no_card": "No card stored",
    "no_such_token": "Stored card no longer valid",
    "declined": "Declined",
}

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def event_name(event_type: str) -> str:
    return EVENT_NAMES.get(event_type) or _sentence(_WORD_START.sub(" ", event_type))


def decline_reason(code: str) -> str:
    return DECLINE_REASONS.get(code) or _sentence(code.replace("_", " "))


def _sentence(words: str) -> str:
    words = " ".join(words.split())
    return words[:1].upper() + words[1:].lower() if words else ""

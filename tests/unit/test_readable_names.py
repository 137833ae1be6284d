"""The support page's words for event types and decline codes, and the fallback for new ones."""

from __future__ import annotations

import pytest

from api.readable_names import decline_reason, event_name


@pytest.mark.parametrize(
    ("event_type", "shown"),
    [
        ("PrepaymentDebited", "Prepayment debited"),
        ("TopUpApplied", "Top-up"),
        ("SessionCharged", "Charging session"),
        ("AdjustmentRecorded", "Adjustment"),
        ("AutoTopUpConsentGiven", "Auto top up consent given"),  # not listed: its words
        ("DunningStepTaken", "Dunning step taken"),
        ("Ended", "Ended"),
        ("", ""),
    ],
)
def test_event_types_read_as_words(event_type: str, shown: str) -> None:
    assert event_name(event_type) == shown


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("insufficient_funds", "Insufficient funds"),
        ("card_declined", "Card declined"),
        ("stolen_card", "Card reported stolen"),
        ("processing_error", "Processing error"),  # not listed: its words
        ("TRY_AGAIN_LATER", "Try again later"),
    ],
)
def test_decline_codes_read_as_words(code: str, shown: str) -> None:
    assert decline_reason(code) == shown

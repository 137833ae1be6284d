"""A payment card's expiry: a card is valid through the last day of its expiry month, and an
expired one is never stored (it could pay for nothing)."""

from __future__ import annotations

from datetime import datetime

from domain.errors import Unprocessable


def check_not_expired(exp_month: int, exp_year: int, now: datetime) -> None:
    """Refuse a card whose expiry month has passed, naming the field that makes it so."""
    if exp_year < now.year:
        raise Unprocessable(
            f"the card expired in {exp_month:02d}/{exp_year}; exp_year/exp_month must not be in the past",
            field="exp_year",
        )
    if exp_year == now.year and exp_month < now.month:
        raise Unprocessable(
            f"the card expired in {exp_month:02d}/{exp_year}; exp_month must not be in the past",
            field="exp_month",
        )

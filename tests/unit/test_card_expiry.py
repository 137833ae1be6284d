"""A card is valid through the last day of its expiry month; an expired one is refused naming
the field that makes it so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.cards import check_not_expired
from domain.errors import Unprocessable

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("month", "year"), [(12, 2026), (1, 2027), (1, 2100)])
def test_a_card_valid_this_month_or_later_is_taken(month: int, year: int) -> None:
    check_not_expired(month, year, NOW)


@pytest.mark.parametrize(
    ("month", "year", "field"), [(11, 2026, "exp_month"), (12, 2025, "exp_year"), (1, 2020, "exp_year")]
)
def test_an_expired_card_is_refused_naming_the_field(month: int, year: int, field: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        check_not_expired(month, year, NOW)
    assert refused.value.field == field
    assert refused.value.status == 422

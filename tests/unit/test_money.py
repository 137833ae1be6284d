"""Money: integer minor units, ISO 4217 currencies, formatting without floats."""

from __future__ import annotations

import pytest

from domain.errors import ValidationFailed
from domain.money import MAX_AMOUNT_MINOR, check_amount, check_currency, format_amount


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1234, "EUR", "12.34 EUR"),
        (5, "EUR", "0.05 EUR"),
        (-3000, "EUR", "-30.00 EUR"),
        (1500, "JPY", "1500 JPY"),
        (1234, "KWD", "1.234 KWD"),
    ],
)
def test_amounts_format_with_the_currency_digits(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


@pytest.mark.parametrize("code", ["EUX", "eur", "", "EURO"])
def test_unknown_currencies_are_refused(code: str) -> None:
    with pytest.raises(ValidationFailed):
        check_currency(code)


@pytest.mark.parametrize(
    ("amount", "kwargs"),
    [(0, {}), (-1, {}), (MAX_AMOUNT_MINOR + 1, {}), (1.5, {}), (True, {})],
)
def test_bad_amounts_are_refused(amount: object, kwargs: dict) -> None:
    with pytest.raises(ValidationFailed):
        check_amount(amount, "amount_minor", **kwargs)  # type: ignore[arg-type]


def test_signed_amounts_may_be_negative() -> None:
    assert check_amount(-500, "amount_minor", signed=True) == -500

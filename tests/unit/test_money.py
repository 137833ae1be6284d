"""Money: integer minor units, ISO 4217 currencies, formatting without floats."""

from __future__ import annotations

import pytest

from domain.errors import ValidationFailed
from domain.money import (
    MAX_AMOUNT_MINOR,
    check_amount,
    check_currency,
    divide_half_even,
    format_amount,
    prorate,
    split_vat,
)


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


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 2), (7, 2, 4), (1, 3, 0), (2, 3, 1), (-5, 2, -2), (-7, 2, -4), (10, 5, 2)],
)
def test_division_rounds_half_to_even(numerator: int, denominator: int, expected: int) -> None:
    assert divide_half_even(numerator, denominator) == expected


def test_proration_by_days() -> None:
    assert prorate(1490, 22, 31) == 1057  # 1057.42
    assert prorate(1000, 15, 30) == 500
    assert prorate(1, 1, 2) == 0  # 0.5 -> even
    assert prorate(3, 1, 2) == 2  # 1.5 -> even


@pytest.mark.parametrize(("gross", "rate"), [(1240, 2400), (999, 2550), (1, 2400), (0, 2400), (500, 0)])
def test_vat_split_adds_up_to_the_gross(gross: int, rate: int) -> None:
    net, vat = split_vat(gross, rate)
    assert net + vat == gross
    assert net == divide_half_even(gross * 10_000, 10_000 + rate)

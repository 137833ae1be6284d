"""Card numbers are recognised wherever they hide in a body, without false alarms."""

from __future__ import annotations

import pytest

from api.card_numbers import find_card_number, luhn_valid
from api.problems import field_from_message


@pytest.mark.parametrize(
    "pan", ["4242424242424242", "4000 0566 5566 5556", "5555-5555-5555-4444", "378282246310005"]
)
def test_card_numbers_are_found(pan: str) -> None:
    assert find_card_number({"note": f"my card is {pan}"}) == "note"


def test_nested_fields_are_named_by_path() -> None:
    body = {"card": {"token": "tok_visa", "extra": ["ok", "4242424242424242"]}}
    assert find_card_number(body) == "card.extra[1]"


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",
        "session 123456789012",
        "tok_visa",
        "+358401234567",
        "0a6b1c2d-3000-4123-8456-789012345678",
        "12345678-1234-1234-1234-123456789012",
        "ref-4242424242424242",
    ],
)
def test_other_digit_runs_are_not_card_numbers(text: str) -> None:
    assert find_card_number({"note": text}) is None


def test_numbers_outside_strings_are_not_inspected() -> None:
    assert find_card_number({"amount_minor": 4242424242424242}) is None


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Object contains unknown field `nickname`", "nickname"),
        ("Object missing required field `token` - at `$.card`", "card.token"),
        ("Expected `int`, got `str` - at `$.exp_year`", "exp_year"),
        ("Expected `object`, got `array`", None),
    ],
)
def test_validation_messages_name_their_field(message: str, field: str | None) -> None:
    assert field_from_message(message) == field

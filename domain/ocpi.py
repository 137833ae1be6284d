"""How a charge point operator's CDR becomes a charging session: exact decimal amounts to minor
units, energy to Wh, the EMP's markup for that operator. Pure: no float anywhere, no I/O."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from domain.errors import ValidationFailed
from domain.money import MAX_AMOUNT_MINOR, divide_half_even, minor_unit_digits

BASIS_POINTS = 10_000
MAX_MARKUP_BP = 10_000  # at most doubles the operator's price


def session_id_of(country_code: str, party_id: str, cdr_id: str) -> str:
    """The session id of a CDR at the ledger: unique per operator, as the CDR's id is."""
    return f"{country_code.upper()}*{party_id.upper()}*{cdr_id}"


def minor_units(amount: Decimal, currency: str, field: str) -> int:
    """`amount` of `currency` in minor units, exactly: trailing zeros are fine, a non-zero digit
    beyond the currency's minor unit is refused (nothing is rounded away)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValidationFailed(f"{field} must be a number", field=field)
    try:
        scaled = amount.scaleb(minor_unit_digits(currency))
        whole = scaled.to_integral_value()
    except InvalidOperation:
        raise ValidationFailed(f"{field} is out of range", field=field) from None
    if scaled != whole:
        raise ValidationFailed(
            f"{field}: {amount} has more decimals than {currency} has minor units", field=field
        )
    minor = int(whole)
    if abs(minor) > MAX_AMOUNT_MINOR:
        raise ValidationFailed(f"{field} is out of range", field=field)
    return minor


def energy_wh(total_energy: Decimal, field: str = "total_energy") -> int:
    """kWh to Wh, rounded half-even."""
    if not isinstance(total_energy, Decimal) or not total_energy.is_finite():
        raise ValidationFailed(f"{field} must be a number", field=field)
    try:
        wh = int(total_energy.scaleb(3).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    except InvalidOperation:
        raise ValidationFailed(f"{field} is out of range", field=field) from None
    if abs(wh) > 10**12:
        raise ValidationFailed(f"{field} is out of range", field=field)
    return wh


def with_markup(cost_minor: int, markup_bp: int) -> int:
    """The driver's price: the operator's cost raised by the EMP's markup, rounded half-even."""
    return divide_half_even(cost_minor * (BASIS_POINTS + markup_bp), BASIS_POINTS)


def check_markup(markup_bp: int) -> int:
    if isinstance(markup_bp, bool) or not isinstance(markup_bp, int) or not 0 <= markup_bp <= MAX_MARKUP_BP:
        raise ValidationFailed(f"markup_bp must be from 0 to {MAX_MARKUP_BP}", field="markup_bp")
    return markup_bp

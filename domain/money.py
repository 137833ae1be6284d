"""Money is an int of minor units in the EMP's ISO 4217 currency; never a float."""

from __future__ import annotations

from domain.errors import ValidationFailed

# ISO 4217 active codes (funds and precious-metal codes left out: nobody pays for charging in them).
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    ]
)
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])

# Largest amount one movement may carry: 10^12 minor units (10 billion in a 2-decimal currency).
MAX_AMOUNT_MINOR = 10**12


def check_currency(code: str, field: str = "currency") -> str:
    if code not in ISO_4217:
        raise ValidationFailed(f"{field}: {code!r} is not an ISO 4217 currency code", field=field)
    return code


def minor_unit_digits(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def check_amount(amount: int, field: str, *, allow_zero: bool = False, signed: bool = False) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed(f"{field} must be an integer of minor units", field=field)
    if abs(amount) > MAX_AMOUNT_MINOR:
        raise ValidationFailed(f"{field} must be at most {MAX_AMOUNT_MINOR} in size", field=field)
    if amount == 0 and not allow_zero:
        raise ValidationFailed(f"{field} must not be 0", field=field)
    if amount < 0 and not signed:
        raise ValidationFailed(f"{field} must not be negative", field=field)
    return amount


def format_amount(amount_minor: int, currency: str) -> str:
    """'12.34 EUR' from 1234: integer arithmetic only."""
    digits = minor_unit_digits(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    if digits == 0:
        return f"{sign}{whole} {currency}"
    return f"{sign}{whole}.{fraction:0{digits}d} {currency}"


def divide_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even, in integers (no float ever)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 > denominator or (remainder * 2 == denominator and quotient % 2 == 1):
        quotient += 1
    return sign * quotient


def prorate(amount_minor: int, days: int, of_days: int) -> int:
    """The share of a monthly price for `days` of `of_days`, half-even to the minor unit."""
    return divide_half_even(amount_minor * days, of_days)


def split_vat(gross_minor: int, rate_basis_points: int) -> tuple[int, int]:
    """(net, vat) of a gross amount at a VAT rate in basis points (2400 = 24 %); they add up
    to the gross exactly."""
    net = divide_half_even(gross_minor * 10_000, 10_000 + rate_basis_points)
    return net, gross_minor - net

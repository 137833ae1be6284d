"""The EMP's name as OCPI business details: OCPI's `string(100)` holds no control characters."""

from __future__ import annotations

from api.ocpi.routes import business_name


def test_a_name_is_kept_without_control_characters_and_at_most_100_long() -> None:
    assert business_name("Volt Charging Oy") == "Volt Charging Oy"
    assert business_name("§\x10Volt\x7f") == "§Volt"
    assert business_name("x" * 150) == "x" * 100
    assert business_name("\x10\x11") == "EMP"

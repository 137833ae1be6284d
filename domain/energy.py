"""Energy is an int of Wh in every event; people read kWh."""

from __future__ import annotations


def kwh(energy_wh: int) -> str:
    """Energy for people, from integer Wh without a float: 21500 -> '21.500', -1500 -> '-1.500'."""
    sign = "-" if energy_wh < 0 else ""
    whole, fraction = divmod(abs(energy_wh), 1000)
    return f"{sign}{whole}.{fraction:03d}"

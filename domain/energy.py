"""Energy is an int of Wh in every event; people read kWh."""

from __future__ import annotations


def kwh(energy_wh: int) -> str:
    """Energy for people, from integer Wh without a float: 21500 -> '21.500'."""
    return f"{energy_wh // 1000}.{energy_wh % 1000:03d}"

"""The balance over time as an inline SVG line chart, drawn on the server (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.money import format_amount

WIDTH, HEIGHT, PAD = 720, 220, 40


@dataclass(frozen=True)
class Chart:
    points: str
    zero_y: float
    low_label: str
    high_label: str
    first_label: str
    last_label: str
    width: int = WIDTH
    height: int = HEIGHT


def balance_chart(series: list[tuple[datetime, int]], currency: str) -> Chart | None:
    """A step line through (recorded_at, balance_after) points, scaled to the chart box."""
    if not series:
        return None
    times = [t.timestamp() for t, _ in series]
    balances = [b for _, b in series]
    low, high = min(0, *balances), max(0, *balances)
    start, end = times[0], max(times[-1], times[0] + 1)
    span_y = max(high - low, 1)

    def x(t: float) -> float:
        return round(PAD + (t - start) / (end - start) * (WIDTH - 2 * PAD), 1)

    def y(balance: int) -> float:
        return round(HEIGHT - PAD - (balance - low) / span_y * (HEIGHT - 2 * PAD), 1)

    coordinates = [(x(times[0]), y(0))]
    for t, balance in zip(times, balances, strict=True):
        coordinates.append((x(t), coordinates[-1][1]))  # hold the previous balance until this moment
        coordinates.append((x(t), y(balance)))
    return Chart(
        points=" ".join(f"{cx},{cy}" for cx, cy in coordinates),
        zero_y=y(0),
        low_label=format_amount(low, currency),
        high_label=format_amount(high, currency),
        first_label=series[0][0].strftime("%Y-%m-%d %H:%M"),
        last_label=series[-1][0].strftime("%Y-%m-%d %H:%M"),
    )

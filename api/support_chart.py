"""The balance over business time as an inline SVG line chart, drawn on the server (no
JavaScript): date labels in the EMP's time zone and the instant being explained marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.money import format_amount

WIDTH, HEIGHT, PAD = 720, 220, 40
TICKS = 5


@dataclass(frozen=True)
class Tick:
    x: float
    label: str

    @property
    def anchor(self) -> str:
        """Where its label hangs from x, so that no label runs off the chart's edges."""
        return "start" if self.x < 100 else "end" if self.x > WIDTH - 100 else "middle"


@dataclass(frozen=True)
class Chart:
    points: str
    zero_y: float
    low_label: str
    high_label: str
    ticks: list[Tick]
    marker: Tick
    width: int = WIDTH
    height: int = HEIGHT


def balance_chart(
    series: list[tuple[datetime, int]], currency: str, marked: datetime, until: datetime, zone: ZoneInfo
) -> Chart | None:
    """A step line through (business time, balance after) points, scaled to the chart box,
    from the first movement to `until` (now), with the marked instant drawn as a line."""
    if not series:
        return None
    start = series[0][0]
    end = max(series[-1][0], marked, until, start + timedelta(seconds=1))
    balances = [b for _, b in series]
    low, high = min(0, *balances), max(0, *balances)
    span_y = max(high - low, 1)
    span_x = (end - start).total_seconds()

    def x(t: datetime) -> float:
        share = min(max((t - start).total_seconds() / span_x, 0.0), 1.0)
        return round(PAD + share * (WIDTH - 2 * PAD), 1)

    def y(balance: int) -> float:
        return round(HEIGHT - PAD - (balance - low) / span_y * (HEIGHT - 2 * PAD), 1)

    coordinates = [(x(start), y(0))]
    for t, balance in series:
        coordinates.append((x(t), coordinates[-1][1]))  # hold the previous balance until this moment
        coordinates.append((x(t), y(balance)))
    coordinates.append((x(end), coordinates[-1][1]))
    shown = "%Y-%m-%d" if end - start >= timedelta(days=2) else "%Y-%m-%d %H:%M"
    instants = [start + (end - start) * i / (TICKS - 1) for i in range(TICKS)]
    return Chart(
        points=" ".join(f"{cx},{cy}" for cx, cy in coordinates),
        zero_y=y(0),
        low_label=format_amount(low, currency),
        high_label=format_amount(high, currency),
        ticks=_distinct([Tick(x(t), t.astimezone(zone).strftime(shown)) for t in instants]),
        marker=Tick(x(marked), marked.astimezone(zone).strftime("%Y-%m-%d %H:%M")),
    )


def _distinct(ticks: list[Tick]) -> list[Tick]:
    """Each date label once: movements minutes apart would otherwise label every tick alike."""
    return [tick for i, tick in enumerate(ticks) if i == 0 or tick.label != ticks[i - 1].label]

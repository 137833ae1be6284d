"""What the write side needs from the outside world, as small protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

# One SQL statement and its parameters.
Statement = tuple[str, list[Any]]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class CardVerification:
    approved: bool
    decline_code: str | None = None


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    charge_id: str
    decline_code: str | None = None


class PaymentGateway(Protocol):
    def verify_card(self, token: str) -> CardVerification:
        """Attach the card: a declined card is never stored."""
        ...

    def charge(self, *, token: str, amount_minor: int, currency: str, idempotency_key: str) -> ChargeResult:
        """Charge once per idempotency key: a repeat returns the first result."""
        ...


class InlineReadModels(Protocol):
    def statements(self, events: Sequence[Any]) -> list[Statement]:
        """What these events change in the read models that are written with the events, in
        their own transaction (docs/architecture.md)."""
        ...


class ManualClock:
    """A clock that moves only when told: for simulations (the demo) and billing tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant

    def advance(self, delta: timedelta) -> None:
        self._now += delta

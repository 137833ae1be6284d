"""What the write side needs from the outside world, as small protocols."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


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

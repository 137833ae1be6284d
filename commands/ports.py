"""What the write side needs from the outside world, as small protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from domain.aggregates import Customer

# One SQL statement and its parameters.
Statement = tuple[str, list[Any]]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class CardDetails:
    """What the gateway knows of a card: shown to the customer, the expiry checked."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class CardVerification:
    approved: bool
    decline_code: str | None = None
    # The card's details as the gateway read them (None: the request's are taken).
    details: CardDetails | None = None
    # The token to store, when the gateway made its own of the one sent (None: the one sent).
    token: str | None = None


@dataclass(frozen=True)
class CardSetup:
    """A card set up by the EMP's front end (Stripe.js): the card is stored when it succeeds."""

    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    charge_id: str
    decline_code: str | None = None
    # Neither yet: the gateway tells the outcome later (a webhook), the payment stays in flight.
    processing: bool = False


@dataclass(frozen=True)
class PayingCustomer:
    """Who a card belongs to and is charged for, as the gateway needs it."""

    id: UUID
    emp_id: UUID
    name: str | None  # None once the customer's personal data is erased
    email: str | None

    @classmethod
    def of(cls, customer: Customer) -> PayingCustomer:
        return cls(customer.id, customer.emp_id, customer.name, customer.email)


class PaymentGateway(Protocol):
    def verify_card(self, token: str, *, customer: PayingCustomer) -> CardVerification:
        """Attach the card: a declined card is never stored."""
        ...

    def start_card_setup(self, *, customer: PayingCustomer) -> CardSetup:
        """A card setup for the EMP's front end; the card is stored when it succeeds."""
        ...

    def charge(
        self,
        *,
        token: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        customer: PayingCustomer,
        payment_id: UUID,
    ) -> ChargeResult:
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

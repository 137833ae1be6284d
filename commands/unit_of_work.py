"""What every handler shares: its services, its typed outcome, and bounded retry on a lost race."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.application import Ledger
from commands.ports import Clock, PaymentGateway

RETRIES = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """The id a command acted on, whether it created it, and the log position of what it
    recorded (None: nothing), so a route can wait for an asynchronous read model to reach it."""

    id: UUID
    position: int | None
    created: bool = True


@dataclass(frozen=True)
class SessionRecorded(Outcome):
    """`id` is the customer's; the balance the session left, as in the first answer."""

    balance_minor: int = 0


@dataclass(frozen=True)
class BalanceChanged(Outcome):
    """A top-up or an adjustment (`id` is its own), the balance it left and, for an
    adjustment, the event's sequence in the customer's history."""

    balance_minor: int = 0
    sequence: int = 0


@dataclass(frozen=True)
class Registered(Outcome):
    """`id` is the customer's."""

    subscription_id: UUID | None = None


@dataclass(frozen=True)
class PaymentCompleted(Outcome):
    """`id` is the payment's; `approved` None when it was completed before and left no record
    of its outcome here (an automatic top-up completed by another worker)."""

    approved: bool | None = None
    charge_id: str | None = None
    # Charged, the outcome still to come from the gateway (a webhook).
    processing: bool = False


@dataclass(frozen=True)
class CardSetupStarted(Outcome):
    """What the EMP's front end confirms the card with (Stripe.js)."""

    setup_intent_id: str = ""
    client_secret: str = ""


@dataclass
class Services:
    """`clock` is the real clock (recording times, workers); an EMP's business "now" is
    `now_for(emp_id)`: its test clock, if it was created with one, else the real clock."""

    ledger: Ledger
    gateway: PaymentGateway
    clock: Clock
    _on_real_clock: set[UUID] = field(default_factory=set)

    def on_test_clock(self, emp_id: UUID) -> bool:
        self.now_for(emp_id)
        return emp_id not in self._on_real_clock

    def now_for(self, emp_id: UUID) -> datetime:
        if emp_id in self._on_real_clock:
            return self.clock.now()
        test_clock_now = self.ledger.get_emp(emp_id).test_clock_now
        if test_clock_now is None:
            self._on_real_clock.add(emp_id)  # an EMP never gets a test clock later
            return self.clock.now()
        return test_clock_now


def retrying(attempt: Callable[[], T]) -> T:
    """Run attempt again after a concurrent writer won (optimistic concurrency), bounded."""
    for _ in range(RETRIES - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    return attempt()

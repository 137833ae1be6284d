"""What every handler shares: its services, its outcome, and bounded retry on a lost race."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from commands.application import Ledger
from commands.ports import Clock, PaymentGateway

RETRIES = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """The id a command acted on and the log position of what it recorded (None: nothing),
    so the API can wait for the read models to reach it (read-your-writes)."""

    id: UUID
    position: int | None
    created: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Services:
    ledger: Ledger
    gateway: PaymentGateway
    clock: Clock


def retrying(attempt: Callable[[], T]) -> T:
    """Run attempt again after a concurrent writer won (optimistic concurrency), bounded."""
    for _ in range(RETRIES - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    return attempt()

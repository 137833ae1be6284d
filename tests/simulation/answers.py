"""What commands answered, as the invariants need it: a refusal, and a command sent again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import DomainError, PaymentDeclined


def answer_of(outcome: Any) -> tuple[Any, ...]:
    """What the caller sees of an answer: its kind, the id and the figures it reports (not
    its log position, nor whether it was created now)."""
    if isinstance(outcome, DomainError):
        return (type(outcome).__name__, outcome.detail)
    return (
        type(outcome).__name__,
        getattr(outcome, "id", None),
        getattr(outcome, "balance_minor", None),
        getattr(outcome, "sequence", None),
        getattr(outcome, "subscription_id", None),
        getattr(outcome, "approved", None),
    )


@dataclass(frozen=True)
class Span:
    """The log positions after which and up to which something recorded its events."""

    after: int
    upto: int

    @property
    def recorded(self) -> int:
        return self.upto - self.after


@dataclass(frozen=True)
class Repeat:
    """A command (or a job run) sent a second time: it must answer the same, record nothing."""

    what: str
    first: tuple[Any, ...]
    second: tuple[Any, ...]
    span: Span  # of the second time


@dataclass(frozen=True)
class Refusal:
    """A refused command records nothing, but a declined payment records its intent and
    failure (never a balance movement)."""

    what: str
    error: DomainError
    span: Span

    @property
    def may_record_its_failure(self) -> bool:
        return isinstance(self.error, PaymentDeclined)

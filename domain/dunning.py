"""Dunning: what stays unpaid past its due date is followed up on a ladder of steps, counted in
the EMP's local calendar days from the due date: a mail on the due date, a card retry and a mail
on each retry day, and on the blocking day the customer is blocked (charge points refuse them)
until nothing is overdue any more. Small amounts are not dunned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from domain.errors import Unprocessable, ValidationFailed

DEFAULT_DUNNING: dict[str, Any] = {
    "retry_after_days": [1, 3, 7],
    "block_after_days": 14,
    "minimum_minor": 500,
}
# A card that will not work again however often it is tried: no more retries on it.
HARD_DECLINES = frozenset(
    {
        "expired_card",
        "incorrect_number",
        "invalid_account",
        "lost_card",
        "stolen_card",
        "pickup_card",
        "fraudulent",
    }
)
MAX_DAYS = 365


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: its number (1: the due date), its day, and what it does."""

    step: int
    day: int
    retry: bool
    block: bool


@dataclass(frozen=True)
class Overdue:
    """One thing unpaid past its due date: a prepaid debit or a postpaid invoice."""

    kind: str  # "debit" | "invoice"
    id: str
    amount_minor: int
    due_at: datetime


@dataclass(frozen=True)
class DunningState:
    """A customer in dunning: since when (the first overdue due date), the last step taken,
    what was overdue then, and whether they are blocked."""

    since: datetime
    step: int
    overdue_minor: int
    blocked: bool
    invoices: tuple[str, ...] = ()
    day: int = 0  # the day of dunning the last step was taken on


@dataclass(frozen=True)
class DunningPolicy:
    retry_after_days: tuple[int, ...]
    block_after_days: int
    minimum_minor: int

    @classmethod
    def of(cls, setting: dict[str, Any] | None) -> DunningPolicy | None:
        """The EMP's setting (None: dunning is off)."""
        if setting is None:
            return None
        return cls(tuple(setting["retry_after_days"]), setting["block_after_days"], setting["minimum_minor"])

    def ladder(self) -> list[Rung]:
        days = sorted({0, *self.retry_after_days, self.block_after_days})
        return [
            Rung(step, day, day in self.retry_after_days, day == self.block_after_days)
            for step, day in enumerate(days, start=1)
        ]

    def rung_on(self, day: int) -> Rung | None:
        """The last rung reached on that day (missed days' steps are made up by one, not each)."""
        reached = [rung for rung in self.ladder() if rung.day <= day]
        return reached[-1] if reached else None


def check_dunning(setting: dict[str, Any] | None) -> None:
    """The EMP's dunning setting; each error names its field."""
    if setting is None:
        return
    days = setting.get("retry_after_days")
    if not isinstance(days, list) or not all(isinstance(d, int) and 1 <= d <= MAX_DAYS for d in days):
        raise Unprocessable(
            f"dunning.retry_after_days must be days from 1 to {MAX_DAYS}", field="dunning.retry_after_days"
        )
    if days != sorted(set(days)):
        raise Unprocessable(
            "dunning.retry_after_days must be in increasing order, each day once",
            field="dunning.retry_after_days",
        )
    block = setting.get("block_after_days")
    if not isinstance(block, int) or not 1 <= block <= MAX_DAYS:
        raise ValidationFailed(
            f"dunning.block_after_days must be from 1 to {MAX_DAYS}", field="dunning.block_after_days"
        )
    minimum = setting.get("minimum_minor")
    if not isinstance(minimum, int) or minimum < 0:
        raise ValidationFailed("dunning.minimum_minor must be 0 or more", field="dunning.minimum_minor")


def day_of_dunning(since: datetime, as_of: datetime, zone: ZoneInfo) -> int:
    """Local calendar days from the due date (0: the due date itself)."""
    return (as_of.astimezone(zone).date() - since.astimezone(zone).date()).days


def rung_due(
    policy: DunningPolicy | None,
    state: DunningState | None,
    overdue: list[Overdue],
    as_of: datetime,
    zone: ZoneInfo,
) -> Rung | Literal[False] | None:
    """What dunning does now: a rung to take, False to end it (nothing overdue, or less than
    the minimum, or dunning turned off), None for nothing today."""
    total = sum(item.amount_minor for item in overdue)
    if policy is None or not overdue or total < policy.minimum_minor:
        return False if state is not None else None
    if state is None:
        return policy.ladder()[0]  # dunning starts with its first step, whatever day it is
    day = day_of_dunning(state.since, as_of, zone)
    rung = policy.rung_on(day)
    if rung is None or rung.step <= state.step or day <= state.day:  # one step a day at most
        return None
    return rung


def dunning_since(state: DunningState | None, overdue: list[Overdue]) -> datetime:
    """Dunning counts its days from the first due date of what is overdue when it starts."""
    return state.since if state is not None else min(item.due_at for item in overdue)

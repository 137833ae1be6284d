"""The write side a simulated history drives: in memory, or a System on PostgreSQL. Either way
the card gateway is the in-memory one, so the invariants can read every charge it made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from chargeledger.system import System
from commands.application import Ledger
from commands.billing_queries import BillingQueries
from commands.in_memory import LogWorkLists, in_memory_services
from commands.ports import ManualClock
from commands.simulated_gateway import InMemoryGateway
from commands.unit_of_work import Services
from projections import queries


class CardIssuers:
    """Which approving test cards are declined right now (an issuer's bad day). The history
    decides at each step; a charge's outcome then depends on its card alone, not on the order
    in which a job meets the customers, so a seed replays the same outcomes."""

    def __init__(self) -> None:
        self.declining: dict[str, str] = {}  # token -> decline code

    def decline_of(self, token: str) -> str | None:
        return self.declining.get(token)


@dataclass
class WriteSide:
    services: Services
    gateway: InMemoryGateway
    clock: ManualClock
    issuers: CardIssuers
    billing_queries: Callable[[], BillingQueries]  # up to date with everything recorded
    pending_card_payments: Callable[[datetime], list[tuple[UUID, UUID]]]
    system: System | None = None  # on PostgreSQL: its read models are checked too

    @property
    def ledger(self) -> Ledger:
        return self.services.ledger

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0


def in_memory_write_side(clock: ManualClock) -> WriteSide:
    issuers = CardIssuers()
    gateway = InMemoryGateway(declines=issuers.decline_of)
    services = in_memory_services(clock, gateway)
    worklists = LogWorkLists(services.ledger)
    return WriteSide(services, gateway, clock, issuers, lambda: worklists, worklists.pending_card_payments)


def postgres_write_side(
    build: Callable[[ManualClock, InMemoryGateway], System], clock: ManualClock
) -> WriteSide:
    """`build` makes the System (its projections started) with this clock and gateway."""
    issuers = CardIssuers()
    gateway = InMemoryGateway(declines=issuers.decline_of)
    system = build(clock, gateway)

    def caught_up() -> System:
        if not system.catch_up():
            raise TimeoutError("the asynchronous read models did not catch up")
        return system

    def billing_queries() -> BillingQueries:
        return caught_up().billing_queries

    def pending(before: datetime) -> list[tuple[UUID, UUID]]:
        return queries.pending_card_payments(caught_up().pool, automatic_only_before=before)

    return WriteSide(system.services, gateway, clock, issuers, billing_queries, pending, system)

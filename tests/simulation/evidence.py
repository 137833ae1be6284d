"""What the invariants look at after a step: the ledger, its log, the gateway's charges, what
the history asked for, and which customers and subscriptions the step may have changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands.application import Ledger
from commands.simulated_gateway import InMemoryGateway
from tests.simulation.answers import Refusal, Repeat, Span
from tests.simulation.history import History
from tests.simulation.ledger_log import AutomaticTopUpRequest, CardCredit, LedgerLog
from tests.simulation.write_side import WriteSide


@dataclass
class Evidence:
    side: WriteSide
    history: History
    log: LedgerLog
    customers: set[UUID]  # whose streams the step moved (at the end: all)
    subscriptions: set[UUID]  # whose periods may have fallen due or been billed (after a job: all)
    payments: set[UUID]  # charged at the gateway or completed in the step (at the end: all)
    new_repeats: list[Repeat]
    new_refusals: list[Refusal]
    new_wrong_answers: list[str]
    new_job_failures: list[str]
    new_automatic_top_ups: list[AutomaticTopUpRequest]
    new_card_credits: list[CardCredit]

    @property
    def ledger(self) -> Ledger:
        return self.side.ledger

    @property
    def gateway(self) -> InMemoryGateway:
        return self.side.gateway

    def label(self, customer_id: UUID) -> str:
        return self.history.label(customer_id)

    def events_in(self, span: Span) -> list[Any]:
        recorder: Any = self.ledger.recorder
        notifications = recorder.select_notifications(
            start=span.after, limit=max(span.recorded, 1), inclusive_of_start=False
        )
        return [self.ledger.mapper.to_domain_event(n) for n in notifications if n.id <= span.upto]


# An invariant: what breaks it, nothing when it holds.
Invariant = Callable[[Evidence], Iterator[str]]


class Auditor:
    """Follows the log step by step and hands the invariants what is new since the last look."""

    def __init__(self, side: WriteSide, history: History) -> None:
        self.side = side
        self.history = history
        self.log = LedgerLog(side.ledger)
        self.seen: dict[str, int] = {}
        self.runs_seen = 0
        self.charges_seen = 0

    def _new(self, name: str, items: list[Any]) -> list[Any]:
        start = self.seen.get(name, 0)
        self.seen[name] = len(items)
        return items[start:]

    def evidence(self, *, everything: bool = False) -> Evidence:
        """After a job ran, what is due changed for everyone: then every stream is looked at."""
        h, log = self.history, self.log
        log.follow()
        customers = set(log.customers) if everything else log.touched
        runs = sum(len(runs) for runs in h.runs.values())
        if everything or runs != self.runs_seen:
            self.runs_seen = runs
            subscriptions = set(log.subscriptions)
        else:
            subscriptions = log.touched_subscriptions | {
                s for s, facts in log.subscriptions.items() if facts.customer_id in log.touched
            }
        charged = list(self.side.gateway.charges)
        new_charges = charged if everything else charged[self.charges_seen :]
        self.charges_seen = len(charged)
        payments = {UUID(key.removeprefix("payment:")) for key in new_charges} | log.completed
        if everything:
            payments |= set(log.intents)
        return Evidence(
            self.side,
            h,
            log,
            customers,
            subscriptions,
            payments,
            self._new("repeats", h.repeats),
            self._new("refusals", h.refusals),
            self._new("wrong answers", h.wrong_answers),
            self._new("job failures", h.job_failures),
            self._new("automatic top-ups", log.automatic_top_ups),
            self._new("card credits", log.card_credits),
        )

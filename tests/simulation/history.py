"""A seeded year of a charging platform, step by step in time order: EMPs define their catalogs,
customers register and charge, the scheduler's jobs and the card-payment worker run at random
instants. Every choice comes from the seed and from what the history itself did, never from
ids or the order the ledger hands things back, so a seed replays the same history."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from commands.handlers import handle
from commands.messages import DefinePackage, RegisterEmp
from commands.sessions import record_sessions
from domain.errors import DomainError
from tests.simulation.answers import Refusal, Repeat, Span, answer_of
from tests.simulation.write_side import WriteSide

# Cards the gateway approves unless their issuer has a bad day (CardIssuers).
APPROVING = ("tok_visa", "tok_mastercard", "tok_visa_debit", "tok_amex")
DECLINE_CODES = ("card_declined", "insufficient_funds", "expired_card")
YEARS = (2027, 2028)  # a common and a leap year
DAYS = 375  # a year and the first days of the next, so December is billed too


def catalog(rng: random.Random) -> list[tuple[str, str, bool, str, int]]:
    """(code, kind, recurring, payment, price): seed 003's table, one package of each row.
    Free packages included: a free period is posted and settled at once."""
    return [
        ("BASE-PRE", "base", True, "prepaid", rng.choice([0, 490, 990, 1500])),
        ("BASE-POST", "base", True, "postpaid", rng.choice([990, 1490, 2000])),
        ("BOLT-PRE", "bolt_on", True, "prepaid", rng.choice([300, 450, 999])),
        ("BOLT-POST", "bolt_on", True, "postpaid", rng.choice([333, 400])),
        ("ONCE", "bolt_on", False, "any", rng.choice([0, 700, 1200])),
        ("TOP-UP", "top_up", False, "prepaid", rng.choice([2000, 5000])),
    ]


@dataclass
class SimulatedEmp:
    label: str
    id: UUID


@dataclass
class SimulatedCustomer:
    label: str
    id: UUID
    emp: SimulatedEmp
    account_type: str
    subscription_id: UUID | None = None
    bolt_ons: list[UUID] = field(default_factory=list)  # recurring bolt-ons bought


@dataclass(frozen=True)
class Step:
    number: int
    at: datetime
    what: str
    run: Callable[[], None]


# A move: what it is, and how to run it.
Move = tuple[str, Callable[[], None]]


class History:
    def __init__(self, seed: int, side: WriteSide, *, steps: int) -> None:
        self.rng = random.Random(seed)
        self.side = side
        self.steps_wanted = steps
        self.start = datetime(self.rng.choice(YEARS), 1, 1, tzinfo=UTC)
        self.population = self.rng.randint(10, 30)
        self.emps: list[SimulatedEmp] = []
        self.customers: list[SimulatedCustomer] = []
        self.by_id: dict[UUID, SimulatedCustomer] = {}
        self.recent: list[SimulatedCustomer] = []
        self.names = 0  # labels handed out, refused registrations included
        self.keys = 0
        self.repeats: list[Repeat] = []
        self.refusals: list[Refusal] = []
        self.wrong_answers: list[str] = []
        self.job_failures: list[str] = []
        self.runs: dict[str, list[tuple[int, datetime]]] = {}  # job -> (log head at start, as_of)

    # --- the plan -------------------------------------------------------------------------

    def steps(self, choose: Callable[[], Move]) -> Iterator[Step]:
        """The opening (EMPs and catalogs), then at each instant the move `choose` picks."""
        number = 0
        self.side.clock.set(self.start)
        for what, run in self._opening():
            number += 1
            yield Step(number, self.start, what, run)
        for at in self._instants():
            number += 1
            self.side.clock.set(at)
            mood = self._issuers_mood()
            what, run = choose()
            yield Step(number, at, f"{at:%b %d %H:%M} {what}{mood}", run)

    def _opening(self) -> Iterator[Move]:
        for n in range(self.rng.choice([1, 1, 2])):
            label = f"emp{n + 1}"
            threshold, amount = self.rng.choice([(1000, 3000), (500, 2000), (1500, 4000)])
            command = RegisterEmp(label, "EUR", threshold, amount, "admin", self.rng.choice([0, 2400]))
            yield f"{label} registers", partial(self._add_emp, label, command)
            yield f"{label} defines its catalog", lambda: self._define_catalog(self.emps[-1])

    def _add_emp(self, label: str, command: RegisterEmp) -> None:
        self.emps.append(SimulatedEmp(label, handle(command, self.side.services).id))

    def _define_catalog(self, emp: SimulatedEmp) -> None:
        packages = catalog(self.rng)
        for code, kind, recurring, payment, price in packages:
            self.send(DefinePackage(emp.id, code, code, kind, recurring, payment, price, "emp"), code)
        code, kind, recurring, payment, price = self.rng.choice(packages)
        again = DefinePackage(emp.id, code, code, kind, recurring, payment, price, "emp")
        self.send_twice(again, f"{emp.label} defines {code}")

    def _instants(self) -> list[datetime]:
        """Busy days and quiet weeks: steps gather on some days, a few at midnight exactly
        (where periods begin and end)."""
        days = self.rng.sample(range(DAYS), k=min(DAYS, max(1, self.steps_wanted // 4)))
        instants = []
        for _ in range(self.steps_wanted):
            day = self.start + timedelta(days=self.rng.choice(days))
            midnight = self.rng.random() < 0.08
            instants.append(day if midnight else day + timedelta(seconds=self.rng.randrange(86_400)))
        return sorted(instants)

    def _issuers_mood(self) -> str:
        declining: dict[str, str] = {}
        if self.rng.random() < 0.15:
            tokens = self.rng.sample(APPROVING, k=self.rng.randint(1, len(APPROVING)))
            declining = {token: self.rng.choice(DECLINE_CODES) for token in tokens}
        self.side.issuers.declining = declining
        return f" [declining: {', '.join(sorted(declining))}]" if declining else ""

    def last_run_that_knew(self, job: str, position: int) -> datetime | None:
        """The `as_of` of the job's last run that began after `position` was recorded."""
        runs = [as_of for start, as_of in self.runs.get(job, []) if start >= position]
        return runs[-1] if runs else None

    # --- sending commands -----------------------------------------------------------------

    def send(self, command: object, what: str) -> Any:
        """The command's answer, or the DomainError it was refused with (a refusal is noted)."""
        after = self.side.head()
        try:
            return handle(command, self.side.services)
        except DomainError as refused:
            self.refusals.append(Refusal(what, refused, Span(after, self.side.head())))
            return refused

    def send_twice(self, command: object, what: str) -> Any:
        """A client retry: the same command again at once."""
        first = self.send(command, what)
        after = self.side.head()
        second = self.send(command, f"{what} (again)")
        self.repeats.append(Repeat(what, answer_of(first), answer_of(second), Span(after, self.side.head())))
        return first

    def send_sessions(self, commands: list[Any]) -> list[Any]:
        return list(record_sessions(commands, self.side.services))

    # --- who -----------------------------------------------------------------------------

    def someone(self, fits: Callable[[SimulatedCustomer], bool] = lambda c: True) -> SimulatedCustomer | None:
        """A customer that fits, often one of those active lately (a day has its regulars)."""
        recent = [c for c in self.recent if fits(c)]
        if recent and self.rng.random() < 0.5:
            chosen = self.rng.choice(recent)
        else:
            candidates = [c for c in self.customers if fits(c)]
            if not candidates:
                return None
            chosen = self.rng.choice(candidates)
        self.recent = [*[c for c in self.recent if c is not chosen][-3:], chosen]
        return chosen

    def add_customer(self, customer: SimulatedCustomer) -> None:
        self.customers.append(customer)
        self.by_id[customer.id] = customer

    def label(self, customer_id: UUID) -> str:
        customer = self.by_id.get(customer_id)
        return f"{customer.label} ({customer.account_type})" if customer else f"customer {customer_id}"

    def new_name(self) -> str:
        self.names += 1
        return f"c{self.names}"

    def new_key(self, prefix: str) -> str:
        self.keys += 1
        return f"{prefix}-{self.keys}"

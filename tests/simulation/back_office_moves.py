"""What runs behind the counter: support's adjustments, the scheduler's batch jobs (at random
instants, sometimes twice, sometimes the whole night's run) and the card-payment worker."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from commands.card_payments import complete_card_payment
from commands.jobs import JOBS, Scope
from commands.messages import CompleteCardPayment, RecordAdjustment
from commands.payment_worker import ACTOR
from tests.simulation.answers import Repeat, Span
from tests.simulation.history import History, Move

NIGHTLY = ("recurring-prepayment", "recurring-payment", "invoice-production")


class ExceptionsLogged(logging.Handler):
    """The exceptions a job logs for the items it could not process (it goes on with the rest)."""

    def __init__(self, history: History) -> None:
        super().__init__(logging.ERROR)
        self.history = history
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        customer = getattr(record, "customer_id", None)
        item = self.history.label(UUID(customer)) if customer else getattr(record, "subscription_id", "")
        self.messages.append(f"{record.getMessage()} for {item}: {type(error).__name__}: {error}")


@contextmanager
def exceptions_logged(history: History) -> Iterator[ExceptionsLogged]:
    handler = ExceptionsLogged(history)
    logger = logging.getLogger("commands.jobs")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class BackOfficeMoves:
    def __init__(self, history: History) -> None:
        self.h = history
        self.rng = history.rng

    def adjustment(self) -> Move | None:
        h, rng = self.h, self.rng
        c = h.someone()
        if c is None:
            return None
        amount = rng.choice([-2000, -150, -1, 1, 250, 1000, 0])
        reason = "goodwill for a broken charge point" if rng.random() < 0.97 else "  "
        key = h.new_key("adjustment") if rng.random() < 0.8 else None
        twice = key is not None and rng.random() < 0.3
        command = RecordAdjustment(c.emp.id, c.id, amount, reason, "support:ann", request_key=key)
        what = f"support adjusts {c.label} by {amount} (key {key}){' twice' if twice else ''}"
        return what, lambda: (h.send_twice if twice else h.send)(command, what)

    def job(self) -> Move:
        name = self.rng.choice(NIGHTLY)
        twice = self.rng.random() < 0.25
        return f"{name} runs{' twice' if twice else ''}", lambda: self._run_job(name, twice=twice)

    def night(self) -> Move:
        def run() -> None:
            for name in NIGHTLY:
                self._run_job(name, twice=False)
            self._complete_card_payments(twice=False)

        return "the night's jobs run, then the card-payment worker", run

    def card_payment_worker(self) -> Move:
        twice = self.rng.random() < 0.2
        return (
            f"the card-payment worker runs{' twice' if twice else ''}",
            lambda: self._complete_card_payments(twice=twice),
        )

    def _run_job(self, name: str, *, twice: bool) -> None:
        h = self.h
        as_of = h.side.clock.now()
        h.runs.setdefault(name, []).append((h.side.head(), as_of))
        with exceptions_logged(h) as logged:
            result = JOBS[name](
                h.side.services, h.side.billing_queries(), as_of, f"job:{name}", Scope(h.side.services)
            )
            if result.failures:
                h.job_failures.append(f"{name} as of {as_of:%Y-%m-%d %H:%M}: {'; '.join(logged.messages)}")
            if twice:
                after = h.side.head()
                JOBS[name](
                    h.side.services, h.side.billing_queries(), as_of, f"job:{name}", Scope(h.side.services)
                )
                h.repeats.append(Repeat(f"{name} as of {as_of}", (), (), Span(after, h.side.head())))

    def _complete_card_payments(self, *, twice: bool) -> None:
        h = self.h
        for _ in range(2 if twice else 1):
            after = h.side.head()
            for customer_id, payment_id in h.side.pending_card_payments(h.side.clock.now()):
                complete_card_payment(CompleteCardPayment(customer_id, payment_id, ACTOR), h.side.services)
        if twice:
            h.repeats.append(Repeat("the card-payment worker", (), (), Span(after, h.side.head())))

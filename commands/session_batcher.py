"""Group commit for charging sessions: sessions posted at the same moment are recorded in one
transaction. The event log takes a table lock per transaction, so throughput comes from doing
more per transaction, not from more writers.

A batch that cannot be recorded whole (a repeated session, an unknown customer, a race with
another process) is recorded session by session with the ordinary handler, so every session
gets exactly the answer it would have had alone."""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError

from commands.application import position_of
from commands.messages import RecordSession
from commands.sessions import check_session, record_session
from commands.unit_of_work import Outcome, Services
from domain.aggregates import ChargingSession

logger = logging.getLogger(__name__)

Item = tuple[RecordSession, "Future[Outcome]"]


class SessionBatcher:
    def __init__(self, services: Services, *, max_batch: int = 200, linger_seconds: float = 0.0005) -> None:
        self.services = services
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self.batches = 0
        self.sessions = 0
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="session-batcher", daemon=True)
        self._thread.start()

    def submit(self, cmd: RecordSession, timeout: float = 30.0) -> Outcome:
        check_session(cmd, self.services)  # a bad session is refused at once, not batched
        future: Future[Outcome] = Future()
        self._queue.put((cmd, future))
        return future.result(timeout=timeout)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # Take what is already waiting, and linger briefly for the requests in flight.
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get(timeout=self.linger_seconds if len(batch) == 1 else 0)
                except queue.Empty:
                    break
                if item is None:
                    self._record(batch)
                    return
                batch.append(item)
            self._record(batch)

    def _record(self, batch: list[Item]) -> None:
        try:
            outcomes = self._record_together([cmd for cmd, _ in batch])
        except (OperationalError, InterfaceError, psycopg.OperationalError) as unavailable:
            # The database is away: every session of the batch gets that answer at once.
            for _, future in batch:
                future.set_exception(unavailable)
            return
        except Exception:
            for cmd, future in batch:
                try:
                    future.set_result(record_session(cmd, self.services))
                except BaseException as error:
                    future.set_exception(error)
            return
        self.batches += 1
        self.sessions += len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)

    def _record_together(self, commands: list[RecordSession]) -> list[Outcome]:
        ledger = self.services.ledger
        now = self.services.clock.now()
        customers: dict[UUID, Any] = {}
        changed: list[Any] = []
        balances: list[tuple[UUID, int]] = []
        seen: set[tuple[UUID, str]] = set()
        for cmd in commands:
            key = (cmd.emp_id, cmd.session_id)
            if key in seen:
                raise LookupError("a session repeated within one batch")
            seen.add(key)
            customer = customers.get(cmd.customer_id)
            if customer is None:
                customer = customers[cmd.customer_id] = ledger.get_customer(cmd.customer_id, cmd.emp_id)
            customer.charge_session(
                session_id=cmd.session_id,
                started_at=cmd.started_at,
                ended_at=cmd.ended_at,
                energy_wh=cmd.energy_wh,
                cost_minor=cmd.cost_minor,
                location=cmd.location,
                occurred_at=cmd.ended_at,
                now=now,
                caused_by=cmd.actor,
            )
            changed.append(
                ChargingSession(
                    emp_id=cmd.emp_id,
                    session_id=cmd.session_id,
                    customer_id=cmd.customer_id,
                    started_at=cmd.started_at,
                    ended_at=cmd.ended_at,
                    energy_wh=cmd.energy_wh,
                    cost_minor=cmd.cost_minor,
                    location=cmd.location,
                    balance_after_minor=customer.balance_minor,
                )
            )
            balances.append((customer.id, customer.balance_minor))
        position = position_of(ledger.save(*customers.values(), *changed))
        return [Outcome(customer_id, position, extra={"balance_minor": b}) for customer_id, b in balances]

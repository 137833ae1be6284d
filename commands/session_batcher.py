"""Group commit for charging sessions: sessions posted at the same moment are recorded in one
transaction. The event log takes a table lock per transaction, so throughput comes from doing
more per transaction, not from more writers.

The batcher keeps the customers it saved last, as it saved them, and charges the next session
on that copy without reading the log again: a copy that another writer has overtaken cannot be
saved (its new events' versions are taken), so the batch is tried once more on customers read
afresh. A batch that still cannot be recorded whole (a repeated session, an unknown customer)
is recorded session by session with the ordinary handler, so every session gets exactly the
answer it would have had alone."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from commands.application import position_of
from commands.messages import RecordSession
from commands.sessions import check_session, record_session
from commands.unit_of_work import Outcome, Services
from domain.aggregates import ChargingSession, Customer

logger = logging.getLogger(__name__)

Item = tuple[RecordSession, "Future[Outcome]"]


class SessionBatcher:
    def __init__(
        self,
        services: Services,
        *,
        max_batch: int = 200,
        linger_seconds: float = 0.002,
        max_linger_seconds: float = 0.005,
        cache_size: int = 10_000,
    ) -> None:
        self.services = services
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self.max_linger_seconds = max_linger_seconds
        self.batches = 0
        self.sessions = 0
        self.cache_size = cache_size
        # Only the batcher's thread touches it; a customer leaves it when a batch fails.
        self._saved: OrderedDict[UUID, Customer] = OrderedDict()
        self._queue: queue.Queue[Item | None] = queue.Queue()
        # Whether the last batch was shared: clients are posting concurrently.
        self._concurrent = False
        # Sessions between submit and their answer (read models included), and the most seen
        # at once lately: a batch holding that many has nobody left to wait for.
        self._clients = 0
        self._peak = 0
        self._peak_lately = 0
        self._peak_since = time.monotonic()
        self._clients_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="session-batcher", daemon=True)
        self._thread.start()

    def submit(self, cmd: RecordSession, timeout: float = 30.0) -> Outcome:
        return self.enqueue(cmd).result(timeout=timeout)

    def enqueue(self, cmd: RecordSession) -> Future[Outcome]:
        """The session's outcome to come, once its batch is saved."""
        check_session(cmd, self.services)  # a bad session is refused at once, not batched
        future: Future[Outcome] = Future()
        self._queue.put((cmd, future))
        return future

    @contextmanager
    def client(self) -> Iterator[None]:
        """Around a session's submit and the wait for its read models."""
        with self._clients_lock:
            self._clients += 1
            self._peak = max(self._peak, self._clients)
        try:
            yield
        finally:
            with self._clients_lock:
                self._clients -= 1

    def _clients_lately(self) -> int:
        """The most sessions seen in flight at once over the last second or two: how many
        clients post concurrently."""
        with self._clients_lock:
            now = time.monotonic()
            if now - self._peak_since > 1.0:
                self._peak_lately, self._peak, self._peak_since = self._peak, self._clients, now
            return max(self._peak, self._peak_lately)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stopping = self._gather(first)
            # From here a request can no longer cancel its session (one that gave up waiting
            # already is left out), so every outcome below can be set.
            batch = [item for item in batch if item[1].set_running_or_notify_cancel()]
            if batch:
                self._record(batch)
            if stopping:
                return

    def _gather(self, first: Item) -> tuple[list[Item], bool]:
        """The first session and those that follow it closely. While clients post concurrently
        (the last batch was shared), wait up to linger_seconds for each next one, at most
        max_linger_seconds in all, unless every client seen lately is in the batch already.
        Concurrent clients' sessions come in waves (the answers of a batch come back as new
        sessions a moment later), and one transaction for a wave costs far less than one for
        each few. A lone client waits for nobody."""
        batch = [first]
        deadline = time.monotonic() + self.max_linger_seconds
        while len(batch) < self.max_batch:
            wait = 0.0
            if self._concurrent and len(batch) < self._clients_lately():
                wait = min(self.linger_seconds, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        self._concurrent = len(batch) > 1
        return batch, False

    def _record(self, batch: list[Item]) -> None:
        commands = [cmd for cmd, _ in batch]
        try:
            try:
                outcomes = self._record_together(commands, trust_saved=True)
            except IntegrityError:
                # Another writer moved a customer on (or a session repeats): once more, afresh.
                outcomes = self._record_together(commands, trust_saved=False)
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

    def _record_together(self, commands: list[RecordSession], *, trust_saved: bool) -> list[Outcome]:
        try:
            return self._charge_and_save(commands, trust_saved)
        except BaseException:
            # The copies may hold events that were never saved: read these customers afresh.
            for cmd in commands:
                self._saved.pop(cmd.customer_id, None)
            raise

    def _customer(self, cmd: RecordSession, trust_saved: bool) -> Customer:
        customer = self._saved.pop(cmd.customer_id, None) if trust_saved else None
        if customer is None or customer.emp_id != cmd.emp_id:
            return self.services.ledger.get_customer(cmd.customer_id, cmd.emp_id)
        return customer

    def _keep(self, customers: list[Customer]) -> None:
        for customer in customers:
            self._saved[customer.id] = customer
        while len(self._saved) > self.cache_size:
            self._saved.popitem(last=False)

    def _charge_and_save(self, commands: list[RecordSession], trust_saved: bool) -> list[Outcome]:
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
                customer = customers[cmd.customer_id] = self._customer(cmd, trust_saved)
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
        self._keep(list(customers.values()))
        return [Outcome(customer_id, position, extra={"balance_minor": b}) for customer_id, b in balances]

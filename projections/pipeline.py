"""The asynchronous read models: each projection follows the log on its own.

One way to learn of new events: a wake-up (the log's NOTIFY, heard by `LogListener`, or a
poll every second), then a read of the log from the projection's tracked position. One way to
write: a batch of events applied in one transaction that also moves the tracked position
(exactly once: a batch applied twice fails to move it and changes nothing). A projection that
fails on an event stops only itself: its runner records the error where every process's
/health and /metrics see it, backs off, and tries again from its tracked position.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg
from eventsourcing.application import Application
from psycopg import Cursor
from psycopg_pool import ConnectionPool

from projections.listening import listen_until
from projections.progress import PROGRESS_CHANNEL, Progress

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
POLL_SECONDS = 1.0
# After a wake-up, writes that follow within this long are read in the same batch.
GATHER_SECONDS = 0.02
# A stretch of the log with nothing to apply moves the tracked position at most this often.
RECORD_EVERY_SECONDS = 0.25


class Logged(NamedTuple):
    """An event and its place in the log (its notification id)."""

    position: int
    event: Any


class AsyncProjection:
    """A read model that follows the log. `topics` are the event topics it reads (its tracked
    position moves over the others too); `apply` writes a batch with the cursor of the
    transaction that will record its new position."""

    name = ""
    topics: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()

    @property
    def tracking_table(self) -> str:
        return f"{self.name}_tracking"

    def apply(self, cursor: Cursor[Any], events: Sequence[Logged]) -> None:
        raise NotImplementedError

    @property
    def rebuilt(self) -> bool:
        """Whether a rebuild empties the projection and reads the log again from the first event.
        One without tables of its own to empty (the webhooks' outbox, which keeps every message
        it wrote) would only find each message written already: a rebuild catches it up from
        where it is instead."""
        return bool(self.tables)

    def reset(self, cursor: Cursor[Any]) -> None:
        """Empty the projection's tables for a rebuild from zero."""
        cursor.execute(f"TRUNCATE {', '.join(self.tables)}")


@dataclass
class ProjectionStatus:
    name: str
    position: int = 0
    running: bool | None = None  # None: not run by this process
    restarts: int = 0
    last_error: str | None = None
    failed_at: datetime | None = None


class StaleBatch(Exception):
    """Another runner moved the tracked position first: nothing of this batch was applied."""


class ProjectionRunner:
    """Runs one projection in a thread of its own."""

    def __init__(
        self,
        projection: AsyncProjection,
        app: Application[Any],
        pool: ConnectionPool,
        progress: Progress,
        *,
        batch_size: int = 500,
        on_applied: Callable[[str, set[str]], None] | None = None,
    ) -> None:
        self.projection = projection
        self.app = app
        self.pool = pool
        self.progress = progress
        self.batch_size = batch_size
        self.on_applied = on_applied
        self.status = ProjectionStatus(projection.name, running=False)
        # How far this runner has read the log, and how far its tracking row says (behind it
        # only over events of other topics, until it records the position).
        self._position: int | None = None
        self._recorded = 0
        self._recorded_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    def wake(self, *_: object) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._position = None
        self.status.running = True
        self._thread = threading.Thread(target=self._run, name=f"projection-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self.status.running = False

    def catch_up(self) -> int:
        """Apply everything recorded so far, and record the position reached; return how many
        events were applied."""
        applied = 0
        while True:
            count, more = self._apply_next_batch()
            applied += count
            if not more:
                self._record_position()
                return applied

    def _apply_next_batch(self) -> tuple[int, bool]:
        position = self._tracked_position()
        recorder: Any = self.app.recorder
        # The head first: every event up to it has committed (the log's lock orders commits),
        # so the position may move to it over the events of other topics.
        head = recorder.max_notification_id() or 0
        if head <= position:
            return 0, False
        notifications = recorder.select_notifications(
            start=position,
            limit=self.batch_size,
            stop=head,
            topics=self.projection.topics,
            inclusive_of_start=False,
        )
        more = len(notifications) == self.batch_size
        reached = notifications[-1].id if more else head
        if not notifications:
            # Nothing to apply: this process's waiters may go on at once; the tracking row
            # follows within RECORD_EVERY_SECONDS.
            self._reached(reached)
            return 0, False
        events = [Logged(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        if not self._in_one_transaction(reached, events):
            return 0, True
        self._reached(reached)
        if self.on_applied is not None:
            self.on_applied(self.name, {notification.topic for notification in notifications})
        return len(events), more

    def _in_one_transaction(self, reached: int, events: Sequence[Logged]) -> bool:
        """Apply events and move the tracked position to `reached`, together; False when
        another runner moved the position first (nothing applied: go on from where it is)."""
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                # Rebuilt from the log if a crash loses it, with its tracking row: no disk wait.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                # First: a runner that lost the race to another applies nothing of its batch.
                cursor.execute(
                    "SELECT chargeledger_move_tracking(%s, %s, %s, %s)",
                    (self.projection.tracking_table, self.app.name, self._recorded, reached),
                )
                if events:
                    self.projection.apply(cursor, events)
                cursor.execute("SELECT pg_notify(%s, %s)", (PROGRESS_CHANNEL, f"{self.name}={reached}"))
        except psycopg.errors.UniqueViolation as conflict:
            if "another worker moved it" not in str(conflict):
                raise
            self._position = None  # read where the other runner left it
            return False
        self._recorded = reached
        self._recorded_at = time.monotonic()
        return True

    def _reached(self, position: int) -> None:
        self._position = position
        self.status.position = position
        self.progress.advance(self.name, position)

    def _record_position(self, *, now: bool = False) -> None:
        """Move the tracking row over a stretch of other topics' events, now and then."""
        position = self._position or 0
        if position > self._recorded and (
            now or time.monotonic() - self._recorded_at >= RECORD_EVERY_SECONDS
        ):
            self._in_one_transaction(position, [])

    def _tracked_position(self) -> int:
        if self._position is None:
            with self.pool.connection() as conn:
                row = conn.execute(
                    f'SELECT notification_id FROM "{self.projection.tracking_table}"'
                    " WHERE application_name = %s",
                    (self.app.name,),
                ).fetchone()
            self._recorded = int(row[0]) if row and row[0] is not None else 0
            self._reached(self._recorded)
        return self._position or 0

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.catch_up()
            except Exception as error:
                self._position = None  # the failed batch may or may not be in: read it again
                backoff = self._failed(error, backoff)
                continue
            if self.status.last_error is not None:
                self._recovered()
            backoff = FIRST_BACKOFF
            behind = (self._position or 0) > self._recorded
            if self._wake.wait(RECORD_EVERY_SECONDS if behind else POLL_SECONDS):
                self._stop.wait(GATHER_SECONDS)

    def _failed(self, error: Exception, backoff: float) -> float:
        self.status.restarts += 1
        self.status.last_error = f"{type(error).__name__}: {error}"[:2000]
        self.status.failed_at = self.status.failed_at or datetime.now(UTC)
        logger.exception("projection failed; it restarts", extra={"projection": self.name})
        self._report()
        # A write (a NOTIFY) ends the wait early: after an outage the model resumes at once.
        self._stop.wait(min(backoff, FIRST_BACKOFF))
        self._wake.wait(max(backoff - FIRST_BACKOFF, 0.0))
        return min(backoff * 2, MAX_BACKOFF)

    def _recovered(self) -> None:
        logger.info("projection recovered", extra={"projection": self.name})
        self.status.last_error = None
        self.status.failed_at = None
        self._report()

    def _report(self) -> None:
        """Where every process's /health reads it; never fails the runner."""
        try:
            with self.pool.connection(timeout=2.0) as conn:
                conn.execute(
                    "INSERT INTO projection_status (name, restarts, last_error, failed_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, now()) ON CONFLICT (name) DO UPDATE SET"
                    " restarts = EXCLUDED.restarts, last_error = EXCLUDED.last_error,"
                    " failed_at = EXCLUDED.failed_at, updated_at = now()",
                    (self.name, self.status.restarts, self.status.last_error, self.status.failed_at),
                )
        except Exception:
            logger.warning("projection status not recorded", extra={"projection": self.name})


class LogListener:
    """One LISTEN connection per process on the log's channel: every save's NOTIFY wakes the
    runners of this process."""

    def __init__(self, conninfo: str, channel: str, runners: Sequence[ProjectionRunner]) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.runners = list(runners)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._listen, name="log-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _wake_all(self, *_: object) -> None:
        for runner in self.runners:
            runner.wake()

    def _listen(self) -> None:
        listen_until(
            self._stop,
            self.conninfo,
            self.channel,
            on_connected=self._wake_all,  # may have missed some while (re)connecting
            on_payload=self._wake_all,
            on_lost=lambda: None,  # the runners poll meanwhile
            name="log listener",
        )


def recorded_statuses(
    pool: ConnectionPool, app_name: str, projections: Sequence[AsyncProjection]
) -> dict[str, ProjectionStatus]:
    """Each projection's tracked position and last reported error, as every process sees them."""
    statuses: dict[str, ProjectionStatus] = {}
    with pool.connection() as conn:
        reported = {
            row[0]: row[1:]
            for row in conn.execute("SELECT name, restarts, last_error, failed_at FROM projection_status")
        }
        for projection in projections:
            row = conn.execute(
                f'SELECT notification_id FROM "{projection.tracking_table}" WHERE application_name = %s',
                (app_name,),
            ).fetchone()
            restarts, last_error, failed_at = reported.get(projection.name, (0, None, None))
            statuses[projection.name] = ProjectionStatus(
                projection.name,
                position=int(row[0]) if row and row[0] is not None else 0,
                restarts=restarts,
                last_error=last_error,
                failed_at=failed_at,
            )
    return statuses

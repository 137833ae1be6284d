"""Runs the projections: reads the application's log in batches, applies, and never dies silently.

The library's ProjectionRunner applies one event per transaction and stops on its first error.
This worker runs every projection of the process together: it reads and decodes each batch of
the log once, applies it to every view in ONE transaction that also writes each view's tracking
row (so each stays exactly once), wakes on LISTEN/NOTIFY or an in-process save, and on an error
logs it, counts a restart, backs off and resumes from the tracked positions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Notification, Recording, Tracking

from projections.listening import listen_until
from projections.progress import PROGRESS_CHANNEL, Progress, announcement
from projections.view import ReadModelProjection, Statement

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.2
# Events handed over by in-process saves, kept until applied; beyond this many (a worker far
# behind, or stopped) it reads the log instead.
MAX_HANDED = 10_000
# How long a worker waits for the events of an in-process save still in flight before it reads
# the log instead (a save waiting on the log's lock, say).
HAND_OVER_WAIT = 0.05

# From this many events a batch is written with COPY rather than in one pipelined round trip.
BULK_EVENTS = 64

Decoded = tuple[int, str, Any]  # notification id, topic, domain event


def wants(topics: set[str], topic: str) -> bool:
    """Whether a view reading `topics` (none: every one) applies an event of `topic`."""
    return not topics or topic in topics


@dataclass(frozen=True)
class Ahead:
    """A read of the log begun before it was needed: the events after `position`, and the
    askings for a log read made before it began."""

    position: int
    asked: int
    events: Future[list[Decoded]]


@dataclass
class WorkerStatus:
    name: str
    position: int = 0
    restarts: int = 0
    last_error: str | None = None
    running: bool = False


class ProjectionWorker:
    def __init__(
        self,
        app: Application[Any],
        projections: Sequence[ReadModelProjection],
        progress: Progress,
        *,
        listen_conninfo: str | None = None,
        batch_size: int = 500,
    ) -> None:
        if not projections:
            raise ValueError("a projection worker needs at least one projection")
        datastore = projections[0].view.datastore
        if any(p.view.datastore is not datastore for p in projections):
            raise ValueError("projections run together must share one datastore (one transaction)")
        self.app = app
        self.projections = list(projections)
        self.progress = progress
        self.batch_size = batch_size
        self.statuses = [WorkerStatus(p.name) for p in self.projections]
        self._datastore = datastore
        # Each view's tracked position, read from its tracking table when unknown (at the
        # start, after an error, after another process applied a batch first).
        self._positions: list[int] | None = None
        self._listen_conninfo = listen_conninfo
        self._handed: dict[int, tuple[str, Any]] = {}
        self._handed_changed = threading.Condition()
        self._saves_in_flight = 0
        # How far the log is known to reach, from the saves' NOTIFY payloads (migrations/0009)
        # and in-process hand-overs. Beyond that, the log must be read to its end when asked:
        # at the start (writes before this process), after the listener (re)connects, after an
        # error, on a NOTIFY without a position. `_log_asked` counts those askings;
        # `_log_answered` is the count as it was when a read that reached the log's end began.
        self._log_reaches = 0
        self._log_asked = 1
        self._log_answered = 0
        self._read_ahead: ThreadPoolExecutor | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def name(self) -> str:
        return "+".join(p.name for p in self.projections)

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def expect_save(self) -> None:
        """An in-process save has begun: its events will be handed over when it ends."""
        with self._handed_changed:
            self._saves_in_flight += 1

    def hand_over(self, recordings: Sequence[Recording[Any]]) -> None:
        """Take the events of an in-process save that ended (none if it failed), so that the
        next batch need not read them back from the log (it still does wherever there is a
        gap: writes of other processes, or saves handed over out of order)."""
        with self._handed_changed:
            self._saves_in_flight = max(self._saves_in_flight - 1, 0)
            if recordings:
                self._log_reaches = max(self._log_reaches, recordings[-1].notification.id)
            if len(self._handed) < MAX_HANDED:
                for recording in recordings:
                    notification = recording.notification
                    self._handed[notification.id] = (notification.topic, recording.domain_event)
            self._handed_changed.notify_all()
        self._wake.set()

    def _take_handed(self, position: int) -> list[Decoded]:
        """The handed-over events right after `position`, without a gap; forget older ones.
        While an in-process save is still handing over its events, wait for them (briefly):
        its commit's NOTIFY often wakes this worker first, and reading them back from the log
        would cost more than the wait."""
        taken: list[Decoded] = []
        with self._handed_changed:
            handed = self._handed
            for stale in [nid for nid in handed if nid <= position]:
                del handed[stale]
            nid = position + 1
            self._handed_changed.wait_for(
                lambda: nid in handed or not self._saves_in_flight or self._stop.is_set(),
                timeout=HAND_OVER_WAIT,
            )
            while nid in handed and len(taken) < self.batch_size:
                taken.append((nid, *handed.pop(nid)))
                nid += 1
        return taken

    def start(self) -> None:
        self._stop.clear()
        self._positions = None
        for status in self.statuses:
            status.running = True
        self._threads = [threading.Thread(target=self._run, name="projections", daemon=True)]
        if self._listen_conninfo:
            self._threads.append(
                threading.Thread(target=self._listen, name="projections-listen", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._handed_changed:
            self._handed_changed.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        if self._read_ahead is not None:
            self._read_ahead.shutdown(wait=True)
            self._read_ahead = None
        for status in self.statuses:
            status.running = False

    def catch_up(self) -> int:
        """Apply everything recorded so far; return how many events were read."""
        total = 0
        app_name = self.app.name
        recorder = self.app.recorder
        positions = self._tracked_positions()
        # Read only the topics some view wants, unless one wants them all.
        wanted = [set(p.topics) for p in self.projections]
        topics = [] if any(not w for w in wanted) else sorted(set().union(*wanted))
        ahead: Ahead | None = None
        while True:
            position = min(positions)
            decoded = self._take_handed(position)
            if decoded:
                reached = decoded[-1][0]
            elif self._nothing_to_read(position):
                return total
            elif topics:
                asked = self._log_asked
                # Read the head first: with the log's table lock, every event up to it is visible,
                # so the positions may move to the head over the events of other topics.
                head = recorder.max_notification_id() or 0
                if head <= position:
                    self._answered(asked)
                    return total
                notifications = recorder.select_notifications(
                    start=position, limit=self.batch_size, stop=head, topics=topics, inclusive_of_start=False
                )
                if len(notifications) == self.batch_size:
                    reached = notifications[-1].id
                else:
                    reached = head
                    self._answered(asked)
                decoded = self._decode(notifications)
            else:
                asked, decoded = self._next_batch(position, ahead)
                ahead = None
                if len(decoded) < self.batch_size:
                    self._answered(asked)  # the log's end, as of that read
                    if not decoded:
                        return total
                else:
                    # More is likely waiting (a catch-up, a rebuild): read and decode the next
                    # batch while this one is applied.
                    ahead = Ahead(
                        decoded[-1][0],
                        self._log_asked,
                        self._reader().submit(self._read_after, decoded[-1][0]),
                    )
                reached = decoded[-1][0]
            try:
                self._apply(decoded, Tracking(app_name, reached), positions, wanted)
            except IntegrityError:
                # Another worker recorded this batch first: nothing applied twice; move on from
                # where it left the views (its batch may have ended before this one's).
                self._positions = None
                self._ask_for_the_log()
                positions = self._tracked_positions()
                continue
            positions = [max(p, reached) for p in positions]
            self._positions = positions
            total += len(decoded)
            # A batch applied: healthy again. Cleared before the positions move, so whoever sees
            # the new position also sees the error gone.
            for status in self.statuses:
                status.last_error = None
            self._report(positions)
            self.progress.applied({topic for _, topic, _ in decoded})

    def _next_batch(self, position: int, ahead: Ahead | None) -> tuple[int, list[Decoded]]:
        """The events after position, and the askings for a log read made before reading them."""
        if ahead is not None and ahead.position == position:
            return ahead.asked, ahead.events.result()
        asked = self._log_asked
        return asked, self._read_after(position)

    def _read_after(self, position: int) -> list[Decoded]:
        notifications = self.app.recorder.select_notifications(
            start=position, limit=self.batch_size, inclusive_of_start=False
        )
        return self._decode(notifications)

    def _reader(self) -> ThreadPoolExecutor:
        if self._read_ahead is None:
            self._read_ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="projections-read")
        return self._read_ahead

    def _decode(self, notifications: Sequence[Notification]) -> list[Decoded]:
        return [(n.id, n.topic, self.app.mapper.to_domain_event(n)) for n in notifications]

    def _apply(
        self,
        decoded: list[Decoded],
        tracking: Tracking,
        positions: list[int],
        wanted: list[set[str]],
    ) -> None:
        """Apply a batch to every view behind its end, with their tracking rows, in one
        transaction. The steady state (sessions and balance movements, whose rows are only
        buffered) goes as ONE statement in one round trip; a batch whose handlers execute as
        they go runs pipelined; many events (a catch-up, a rebuild) write their rows by COPY."""
        # (projection, events, tracked position) of each view the batch moves.
        moving = [
            (projection, [e for nid, kind, e in decoded if nid > position and wants(topics, kind)], position)
            for projection, position, topics in zip(self.projections, positions, wanted, strict=True)
            if position < tracking.notification_id  # else this view is ahead (the other one rebuilt)
        ]
        # Processes that wait for these views hear of the batch when it commits.
        reached = {
            projection.name: max(position, tracking.notification_id)
            for projection, position in zip(self.projections, positions, strict=True)
        }
        finish: Statement = (
            "SELECT chargeledger_finish_batch(%s, %s, %s::text[], %s::bigint[], %s, %s)",
            [
                tracking.application_name,
                tracking.notification_id,
                [projection.view.tracking_table_name for projection, _, _ in moving],
                [position for _, _, position in moving],
                PROGRESS_CHANNEL,
                announcement(reached),
            ],
        )
        bulk = len(decoded) >= BULK_EVENTS
        if not bulk and self._apply_as_one_statement(moving, finish):
            return
        with (
            self._datastore.get_connection() as conn,
            nullcontext() if bulk else conn.pipeline(),
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            for projection, events, _ in moving:
                projection.apply_events(cursor, events)
            cursor.execute(*finish)

    def _apply_as_one_statement(
        self, moving: list[tuple[ReadModelProjection, list[Any], int]], finish: Statement
    ) -> bool:
        """Every view's buffered statements as parts of one (data-modifying WITH queries, run
        once each), ending with `finish`: one statement, its own transaction, one round trip.
        False, with nothing written, when some handler must execute or read as it goes."""
        parts: list[Statement] = []
        for projection, events, _ in moving:
            statements = projection.buffered_statements(events)
            if statements is None:
                return False
            parts += statements
        sql, params = finish
        if parts:
            sql = "WITH " + ", ".join(f"part{n} AS ({part})" for n, (part, _) in enumerate(parts)) + " " + sql
            params = [value for _, values in parts for value in values] + params
        with self._datastore.get_connection() as conn:
            assert conn.autocommit, "one statement is its own transaction only in autocommit"
            conn.execute(sql, params)
        return True

    def _tracked_positions(self) -> list[int]:
        if self._positions is None:
            self._positions = [p.position(self.app.name) for p in self.projections]
            # The tracked positions, also when there is nothing to apply (a restart at the
            # head): /health reports lag from them.
            self._report(self._positions)
        return self._positions

    def _report(self, positions: list[int]) -> None:
        for projection, status, position in zip(self.projections, self.statuses, positions, strict=True):
            status.position = position
            self.progress.advance(projection.name, position)

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.catch_up()
                backoff = FIRST_BACKOFF
                for status in self.statuses:
                    status.last_error = None
            except Exception as error:
                self._positions = None  # read them again: the failed batch may or may not be in
                self._ask_for_the_log()
                for status in self.statuses:
                    status.restarts += 1
                    status.last_error = f"{type(error).__name__}: {error}"
                logger.exception("projection failed; restarting", extra={"projection": self.name})
                # Back off, but let a write (a save here, or a NOTIFY once the listener is back)
                # end the wait: after a database outage the read models must resume at once, not
                # after the rest of a long backoff while every write waits for them.
                self._stop.wait(min(backoff, FIRST_BACKOFF))
                self._wake.wait(max(backoff - FIRST_BACKOFF, 0.0))
                backoff = min(backoff * 2, 30.0)
                continue
            self._wake.wait(timeout=1.0)

    def _heard(self, payload: str) -> None:
        """A save committed: its NOTIFY payload is the log's new last notification id."""
        try:
            reaches = int(payload)
        except ValueError:  # a write that does not say how far: read the log
            self._ask_for_the_log()
        else:
            with self._handed_changed:
                self._log_reaches = max(self._log_reaches, reaches)
        self._wake.set()

    def _nothing_to_read(self, position: int) -> bool:
        """Applied as far as every save heard of reaches, and no reason to read the log
        beyond: no need to read it."""
        if not self._listen_conninfo:
            return False
        with self._handed_changed:
            return (
                self._log_answered >= self._log_asked
                and position >= self._log_reaches
                and not self._saves_in_flight
            )

    def _ask_for_the_log(self) -> None:
        with self._handed_changed:
            self._log_asked += 1

    def _answered(self, asked: int) -> None:
        """A read begun after `asked` askings reached the log's end."""
        with self._handed_changed:
            self._log_answered = max(self._log_answered, asked)

    def _listen(self) -> None:
        """Wake on the application's NOTIFY channel: writes from other processes."""
        channel = getattr(self.app.recorder, "channel_name", None)
        assert self._listen_conninfo and channel
        listen_until(
            self._stop,
            self._listen_conninfo,
            channel,
            on_connected=self._listening_again,
            on_payload=self._heard,
            on_lost=self._ask_for_the_log,
            name="projection listener",
            log_extra={"projection": self.name},
        )

    def _listening_again(self) -> None:
        self._ask_for_the_log()  # may have missed some while reconnecting
        self._wake.set()

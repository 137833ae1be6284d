"""Runs a projection: reads the application's log in batches, applies, and never dies silently.

The library's ProjectionRunner applies one event per transaction and stops on its first error.
This worker applies up to `batch_size` events per transaction (the view's tracking row in the
same transaction keeps it exactly once), wakes on LISTEN/NOTIFY or an in-process save, and on
an error logs it, counts a restart, backs off and resumes from the tracked position.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking

from projections.progress import Progress
from projections.view import ReadModelProjection

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.2


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
        projection: ReadModelProjection,
        progress: Progress,
        *,
        listen_conninfo: str | None = None,
        batch_size: int = 500,
    ) -> None:
        self.app = app
        self.projection = projection
        self.progress = progress
        self.batch_size = batch_size
        self.status = WorkerStatus(projection.name)
        self._listen_conninfo = listen_conninfo
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def name(self) -> str:
        return self.projection.name

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self.status.running = True
        self._threads = [threading.Thread(target=self._run, name=f"projection-{self.name}", daemon=True)]
        if self._listen_conninfo:
            self._threads.append(
                threading.Thread(target=self._listen, name=f"listen-{self.name}", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        self.status.running = False

    def catch_up(self) -> int:
        """Apply everything recorded so far; return how many events were read."""
        total = 0
        app_name = self.app.name
        recorder = self.app.recorder
        topics = list(self.projection.topics)
        position = self.projection.position(app_name)
        # The tracked position, also when there is nothing to apply (a restart at the head):
        # /health reports lag from it.
        self.status.position = position
        self.progress.advance(self.name, position)
        while True:
            if topics:
                # Read the head first: with the log's table lock, every event up to it is visible,
                # so the position may move to the head over the events of other topics.
                head = recorder.max_notification_id() or 0
                if head <= position:
                    return total
                notifications = recorder.select_notifications(
                    start=position, limit=self.batch_size, stop=head, topics=topics, inclusive_of_start=False
                )
                reached = notifications[-1].id if len(notifications) == self.batch_size else head
            else:
                notifications = recorder.select_notifications(
                    start=position, limit=self.batch_size, inclusive_of_start=False
                )
                if not notifications:
                    return total
                reached = notifications[-1].id
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
            try:
                self.projection.process_batch(events, Tracking(app_name, reached))
            except IntegrityError:
                # Another worker recorded this batch first: nothing applied twice; move on.
                position = self.projection.position(app_name)
                continue
            position = reached
            total += len(notifications)
            self.status.position = position
            self.progress.advance(self.name, position)

    def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.catch_up()
                backoff = FIRST_BACKOFF
                self.status.last_error = None
            except Exception as error:
                self.status.restarts += 1
                self.status.last_error = f"{type(error).__name__}: {error}"
                logger.exception("projection failed; restarting", extra={"projection": self.name})
                # Back off, but let a write (a save here, or a NOTIFY once the listener is back)
                # end the wait: after a database outage the read models must resume at once, not
                # after the rest of a long backoff while every write waits for them.
                self._stop.wait(min(backoff, FIRST_BACKOFF))
                self._wake.wait(max(backoff - FIRST_BACKOFF, 0.0))
                backoff = min(backoff * 2, 30.0)
                continue
            self._wake.wait(timeout=1.0)

    def _listen(self) -> None:
        """Wake on the application's NOTIFY channel: writes from other processes."""
        channel = getattr(self.app.recorder, "channel_name", None)
        assert self._listen_conninfo and channel
        lost = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._listen_conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    if lost:
                        logger.info("projection listener reconnected", extra={"projection": self.name})
                        lost = False
                    self._wake.set()  # may have missed some while reconnecting
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._wake.set()
            except psycopg.Error as error:
                # Once per outage, not once a second while the database is away.
                if not lost:
                    logger.warning(
                        "projection listener lost its connection; reconnecting",
                        extra={"projection": self.name, "error": str(error)},
                    )
                    lost = True
                self._stop.wait(1.0)

"""Group commit for charging sessions: sessions posted at the same moment are recorded by one
call of the sessions handler, in one transaction. The event log takes a table lock per
transaction, so throughput comes from doing more per transaction, not from more writers.

Each batch is what has queued while the last one was being recorded: one session when posts
come one at a time, many when many clients post at once. Concurrent clients post again as soon
as they have their answers, so the next batch waits a moment (at most LINGER_SECONDS) for as
many sessions as the last one held: one transaction for a wave costs far less than several."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

from commands.messages import RecordSession
from commands.sessions import SessionAnswer, record_sessions
from commands.unit_of_work import Services

logger = logging.getLogger(__name__)

Item = tuple[RecordSession, "Future[SessionAnswer]"]
LINGER_SECONDS = 0.001


class SessionBatcher:
    def __init__(
        self,
        services: Services,
        *,
        max_batch: int = 500,
        linger_seconds: float = LINGER_SECONDS,
        trust_cache: bool = True,
    ) -> None:
        self.services = services
        self.trust_cache = trust_cache
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self._last_size = 1
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="session-batcher", daemon=True)
        self._thread.start()

    def enqueue(self, cmd: RecordSession) -> Future[SessionAnswer]:
        """The session's answer to come, once its batch is recorded."""
        future: Future[SessionAnswer] = Future()
        self._queue.put((cmd, future))
        return future

    def enqueue_all(self, commands: list[RecordSession]) -> list[Future[SessionAnswer]]:
        """Many sessions (a bulk request): recorded by the one writer like every other, so two
        bulk requests never charge a customer at once."""
        return [self.enqueue(cmd) for cmd in commands]

    def stop(self) -> None:
        """Record what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.linger_seconds
            while len(batch) < self.max_batch:
                # Wait for the rest of a wave as large as the last; take what is there otherwise.
                wait = deadline - time.monotonic() if len(batch) < self._last_size else 0.0
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._last_size = len(batch)
            # A request that gave up waiting has cancelled its future: its session is left out.
            batch = [item for item in batch if item[1].set_running_or_notify_cancel()]
            if batch:
                self._record(batch)

    def _record(self, batch: list[Item]) -> None:
        try:
            answers = record_sessions([cmd for cmd, _ in batch], self.services, trust_cache=self.trust_cache)
        except Exception as error:
            # The database is away (or the batch kept colliding): every session gets that answer.
            logger.warning("a batch of sessions was not recorded", extra={"error": str(error)})
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            future.set_result(answer)

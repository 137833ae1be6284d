"""Read-your-writes: wait until every projection has applied a given log position.

Where the projections run in this process, their worker advances the positions. Where they run
in another process, that worker announces each committed batch on PROGRESS_CHANNEL
(`name=position,...`, sent with the batch's own transaction), and `follow` listens for it; without
a listener the positions are polled from the tracking tables."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping

from projections.listening import listen_until

logger = logging.getLogger(__name__)

PROGRESS_CHANNEL = "chargeledger_progress"
# A listener could miss an announcement while reconnecting: waiters then read the tracking
# tables themselves after this long.
FOLLOWED_RECHECK_SECONDS = 0.1


def announcement(positions: Mapping[str, int]) -> str:
    return ",".join(f"{name}={position}" for name, position in positions.items())


def parse_announcement(payload: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for part in payload.split(","):
        name, _, position = part.partition("=")
        if name and position.isdigit():
            positions[name] = int(position)
    return positions


class Progress:
    """Positions reached by projections, advanced in-process or read from their tracking rows.

    In-process workers advance it and wake waiters at once. Where the projections run in
    another process, `read_positions` asks the database, polled from 2 ms upward.
    """

    def __init__(
        self,
        names: list[str],
        read_positions: Callable[[], dict[str, int]],
        *,
        local: bool,
    ) -> None:
        self._positions = dict.fromkeys(names, 0)
        self._read_positions = read_positions
        self.local = local
        self._changed = threading.Condition()
        # Requests awaiting a position on an event loop: (position, loop, future), under _changed.
        self._awaiting: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._topic_listeners: list[tuple[frozenset[str], Callable[[], None]]] = []
        self._stop_following = threading.Event()
        self.listening = threading.Event()  # set while the follower's LISTEN is in place
        self._follower: threading.Thread | None = None

    def on_applied(self, topics: Collection[str], listener: Callable[[], None]) -> None:
        """Call listener() once a batch holding any of these event topics has been applied
        (a background worker that has something to do only after certain events)."""
        self._topic_listeners.append((frozenset(topics), listener))

    def applied(self, topics: Collection[str]) -> None:
        """The in-process projection worker committed a batch holding these event topics."""
        for wanted, listener in self._topic_listeners:
            if not wanted.isdisjoint(topics):
                listener()

    def advance(self, name: str, position: int) -> None:
        with self._changed:
            if position <= self._positions.get(name, 0):
                return
            self._positions[name] = position
            self._changed.notify_all()
            if self._awaiting:
                self._wake_awaiting()

    def _wake_awaiting(self) -> None:
        """Resolve the futures of the positions every projection has reached (_changed held)."""
        lowest = min(self._positions.values(), default=0)
        still: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        for waiter in self._awaiting:
            position, loop, future = waiter
            if position <= lowest:
                with contextlib.suppress(RuntimeError):  # its loop has closed meanwhile
                    loop.call_soon_threadsafe(_resolve, future)
            else:
                still.append(waiter)
        self._awaiting = still

    def forget(self, name: str) -> None:
        """Start over from zero (a projection being rebuilt)."""
        with self._changed:
            self._positions[name] = 0

    def positions(self) -> dict[str, int]:
        with self._changed:
            return dict(self._positions)

    def reached(self, position: int) -> bool:
        with self._changed:
            return all(p >= position for p in self._positions.values())

    def wait_for(self, position: int | None, timeout: float) -> bool:
        if position is None:
            return True
        deadline = time.monotonic() + timeout
        poll = 0.002
        while True:
            if self.reached(position):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.local:
                with self._changed:
                    self._changed.wait(min(remaining, 0.05))
            elif self._follower is not None:
                with self._changed:
                    self._changed.wait(min(remaining, FOLLOWED_RECHECK_SECONDS))
                if not self.reached(position):
                    self.refresh()
            else:
                time.sleep(min(poll, remaining))
                poll = min(poll * 2, 0.025)
                self.refresh()

    async def wait_for_async(self, position: int | None, timeout: float) -> bool:
        """`wait_for` without holding a thread: the request waits on its event loop, woken by
        the worker's advance (or the follower's) through a future."""
        if position is None:
            return True
        if not self.local and self._follower is None:
            # Nothing advances the positions here but polling the tracking tables.
            return await asyncio.to_thread(self.wait_for, position, timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._changed:
                if all(p >= position for p in self._positions.values()):
                    return True
                future: asyncio.Future[None] = loop.create_future()
                waiter = (position, loop, future)
                self._awaiting.append(waiter)
            remaining = deadline - loop.time()
            wait = remaining if self.local else min(remaining, FOLLOWED_RECHECK_SECONDS)
            try:
                await asyncio.wait_for(future, max(wait, 0.0))
                continue
            except TimeoutError:
                pass
            finally:  # also when the request is cancelled: no waiter outlives its request
                with self._changed:
                    if waiter in self._awaiting:
                        self._awaiting.remove(waiter)
            if loop.time() >= deadline:
                return self.reached(position)
            if not self.local:
                # A listener can miss an announcement while reconnecting.
                await asyncio.to_thread(self.refresh)

    def refresh(self) -> None:
        """Read the positions from the tracking tables."""
        for name, reached in self._read_positions().items():
            self.advance(name, reached)

    def follow(self, conninfo: str) -> None:
        """Listen for the positions announced by a projection worker in another process."""
        self._stop_following.clear()
        self._follower = threading.Thread(target=self._follow, args=(conninfo,), name="progress", daemon=True)
        self._follower.start()

    def stop_following(self) -> None:
        self._stop_following.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
            self._follower = None

    def _follow(self, conninfo: str) -> None:
        listen_until(
            self._stop_following,
            conninfo,
            PROGRESS_CHANNEL,
            on_connected=self._listening_again,
            on_payload=self._heard,
            on_lost=self.listening.clear,  # waiters read the tracking tables meanwhile
            name="progress listener",
        )

    def _listening_again(self) -> None:
        self.listening.set()
        self.refresh()  # what was announced while nobody listened

    def _heard(self, payload: str) -> None:
        for name, position in parse_announcement(payload).items():
            self.advance(name, position)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a wait that timed out has cancelled it
        future.set_result(None)

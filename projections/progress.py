"""Read-your-writes for the asynchronous read models: wait until the projections a read needs
have applied a given log position.

Runners in this process advance the positions as they commit. Where the projections run in
another process, each committed batch is announced on PROGRESS_CHANNEL (`name=position`, sent
with the batch's own transaction) and `follow` listens for it. Whatever the case, a wait that
has heard nothing for a moment reads the tracking tables itself."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

from projections.listening import listen_until

logger = logging.getLogger(__name__)

PROGRESS_CHANNEL = "chargeledger_progress"
# A wait that has heard nothing for this long reads the tracking tables itself.
RECHECK_SECONDS = 0.1


class Progress:
    def __init__(self, names: Collection[str], read_positions: Callable[[], dict[str, int]]) -> None:
        self._positions = dict.fromkeys(names, 0)
        self._read_positions = read_positions
        self._changed = threading.Condition()
        self._stop_following = threading.Event()
        self._follower: threading.Thread | None = None

    def advance(self, name: str, position: int) -> None:
        with self._changed:
            if position > self._positions.get(name, 0):
                self._positions[name] = position
                self._changed.notify_all()

    def forget(self, name: str) -> None:
        """Start over from zero (a projection being rebuilt)."""
        with self._changed:
            self._positions[name] = 0

    def positions(self) -> dict[str, int]:
        with self._changed:
            return dict(self._positions)

    def reached(self, position: int, names: Collection[str] | None = None) -> bool:
        with self._changed:
            return all(self._positions.get(name, 0) >= position for name in names or self._positions)

    def wait_for(self, position: int | None, timeout: float, names: Collection[str] | None = None) -> bool:
        """Whether the projections (default: all) reached `position` within `timeout`."""
        if position is None:
            return True
        deadline = time.monotonic() + timeout
        while not self.reached(position, names):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                heard = self._changed.wait(min(remaining, RECHECK_SECONDS))
            if not heard:
                self.refresh()
        return True

    def refresh(self) -> None:
        """Read the positions from the tracking tables."""
        try:
            positions = self._read_positions()
        except Exception as error:  # a wait keeps waiting; the database may be back soon
            logger.warning("projection positions not read", extra={"error": str(error)})
            return
        for name, reached in positions.items():
            self.advance(name, reached)

    def follow(self, conninfo: str) -> None:
        """Listen for the positions announced by projection runners in another process."""
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
            on_connected=self.refresh,  # what was announced while nobody listened
            on_payload=self._heard,
            on_lost=lambda: None,  # waits read the tracking tables meanwhile
            name="progress listener",
        )

    def _heard(self, payload: str) -> None:
        name, _, position = payload.partition("=")
        if name and position.isdigit():
            self.advance(name, int(position))

"""Read-your-writes: wait until every projection has applied a given log position."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


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
        self._listeners: list[Callable[[str, int], None]] = []

    def on_advance(self, listener: Callable[[str, int], None]) -> None:
        self._listeners.append(listener)

    def advance(self, name: str, position: int) -> None:
        with self._changed:
            if position <= self._positions.get(name, 0):
                return
            self._positions[name] = position
            self._changed.notify_all()
        for listener in self._listeners:
            listener(name, position)

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
            else:
                time.sleep(min(poll, remaining))
                poll = min(poll * 2, 0.025)
                for name, reached in self._read_positions().items():
                    self.advance(name, reached)

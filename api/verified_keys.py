"""Keys verified a moment ago in this process, so that most requests authenticate without a
thread hop and a database round trip (docs/performance.md: without it ingestion lost a third).

A revocation is heard at once: a trigger on api_keys (migrations/0021) sends a NOTIFY on
REVOKED_CHANNEL when a revocation or deletion commits, however it is made; every process LISTENs
and forgets the key. Nothing is remembered while that
connection is down, and everything is forgotten when it comes back (what was sent meanwhile is
gone); a lookup that began before a revocation was heard is never remembered, so a stale answer
cannot outlive the notification. `ttl` bounds each entry regardless, and with it how stale
`last_used_at` may be."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from api.keys import REVOKED_CHANNEL, Principal
from projections.listening import listen_until


class VerifiedKeys:
    def __init__(
        self, ttl: float = 60.0, max_size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ):
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._seen: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self._listening = False
        self._forgotten = 0  # counts revocations heard and outages: a lookup older is not kept
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def generation(self) -> int:
        """Taken before a lookup and handed to `put` with its answer."""
        return self._forgotten

    def get(self, token: str) -> Principal | None:
        entry = self._seen.get(_digest(token))
        if entry is None or not self._listening:
            return None
        principal, until = entry
        return principal if self.clock() < until else None

    def put(self, token: str, principal: Principal, generation: int) -> None:
        with self._lock:
            if not self._listening or generation != self._forgotten:
                return
            if len(self._seen) >= self.max_size:
                self._seen.clear()
            self._seen[_digest(token)] = (principal, self.clock() + self.ttl)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._forgotten += 1
            for digest, (principal, _) in list(self._seen.items()):
                if str(principal.key_id) == key_id:
                    del self._seen[digest]

    def start(self, conninfo: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=listen_until,
            args=(self._stop, conninfo, REVOKED_CHANNEL),
            kwargs={
                "on_connected": self._connected,
                "on_payload": self.forget,
                "on_lost": self._lost,
                "name": "API key revocations",
            },
            name="key-revocations",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._lost()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _connected(self) -> None:
        with self._lock:
            self._forgotten += 1
            self._seen.clear()
            self._listening = True

    def _lost(self) -> None:
        with self._lock:
            self._forgotten += 1
            self._listening = False
            self._seen.clear()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()

"""One scheduler acts at a time: the holder of a session advisory lock, taken on a dedicated
connection (a pooled connection would keep or silently drop a session lock)."""

from __future__ import annotations

import contextlib
import logging
import threading

import psycopg

logger = logging.getLogger(__name__)

# An arbitrary constant naming "the scheduler" among advisory locks.
SCHEDULER_LOCK_KEY = 7_420_031_002


class Leadership:
    def __init__(self, conninfo: str, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._conninfo = conninfo
        self._key = key
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def holds(self) -> bool:
        """True while this process holds the lock; tries to take it when it does not."""
        with self._lock:
            try:
                if self._conn is not None and not self._conn.closed:
                    self._conn.execute("SELECT 1")  # the lock lives exactly as long as this session
                    return True
                self._conn = None
                conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
                if row and row[0]:
                    self._conn = conn
                    logger.info("this process now runs the scheduled jobs")
                    return True
                conn.close()
                return False
            except psycopg.Error:
                logger.warning("scheduler leadership lost with its connection")
                self._drop()
                return False

    def release(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

"""A LISTEN connection kept open across database outages: the loop that both the projection
worker (new events in the log) and the progress follower (batches applied in another process)
run in a thread of their own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import psycopg

logger = logging.getLogger(__name__)


def listen_until(
    stop: threading.Event,
    conninfo: str,
    channel: str,
    *,
    on_connected: Callable[[], None],
    on_payload: Callable[[str], None],
    on_lost: Callable[[], None],
    name: str,
    log_extra: Mapping[str, Any] | None = None,
) -> None:
    """LISTEN on `channel` and hand each payload over, until `stop` is set. `on_connected` runs
    after each (re)connection: notifications sent while nobody listened are gone. A lost
    connection is logged once per outage, not once a second, and retried every second."""
    lost = False
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'LISTEN "{channel}"')
                if lost:
                    logger.info(f"{name} reconnected", extra=dict(log_extra or {}))
                    lost = False
                on_connected()
                while not stop.is_set():
                    for notify in conn.notifies(timeout=0.5, stop_after=1):
                        on_payload(notify.payload)
        except Exception as error:  # never die: whoever relies on it falls back meanwhile
            on_lost()
            if not lost:
                extra = {**(log_extra or {}), "error": str(error)}
                logger.warning(f"{name} lost its connection; reconnecting", extra=extra)
                lost = True
            stop.wait(1.0)

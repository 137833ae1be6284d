"""The event store's recorders, answering within seconds when PostgreSQL is gone.

The library retries each database call 10 times, each waiting up to the connect timeout for a
pool connection: a request would hang for close to a minute in an outage. Two attempts are
enough: before the second, every idle pooled connection is checked and the broken ones dropped
(a restarted server leaves them all broken), so the second attempt gets a working connection
if the server is back, and the API answers 503 at once if it is not."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder

T = TypeVar("T", bound=Callable[..., Any])
RETRY_WAIT = 0.2


def fail_fast(method: T) -> T:
    """Two attempts at a recorder method; between them, drop the pool's broken connections."""

    @functools.wraps(method)
    def attempt(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (InterfaceError, OperationalError):
            with contextlib.suppress(Exception):
                self.datastore.pool.check()
            time.sleep(RETRY_WAIT)
            return method(self, *args, **kwargs)

    return attempt  # type: ignore[return-value]


def _unwrapped(method: Any) -> Any:
    return getattr(method, "__wrapped__", method)


class FailFastAggregateRecorder(PostgresAggregateRecorder):
    insert_events = fail_fast(_unwrapped(PostgresAggregateRecorder.insert_events))
    select_events = fail_fast(_unwrapped(PostgresAggregateRecorder.select_events))


class FailFastApplicationRecorder(PostgresApplicationRecorder):
    insert_events = fail_fast(_unwrapped(PostgresApplicationRecorder.insert_events))
    select_events = fail_fast(_unwrapped(PostgresApplicationRecorder.select_events))
    select_notifications = fail_fast(_unwrapped(PostgresApplicationRecorder.select_notifications))
    max_notification_id = fail_fast(_unwrapped(PostgresApplicationRecorder.max_notification_id))

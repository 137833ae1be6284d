"""The event store's recorders, answering within seconds when PostgreSQL is gone.

The library retries each database call 10 times, each waiting up to the connect timeout for a
pool connection: a request would hang for close to a minute in an outage. Two attempts are
enough to ride over one dropped connection; after that the API answers 503 at once."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry

fail_fast = retry((InterfaceError, OperationalError), max_attempts=2, wait=0.2)


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

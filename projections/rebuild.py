"""Rebuilding read models from the first event, by the same projection code that writes them.

The inline models are rebuilt in one transaction that holds the log's lock: saves wait (each
for at most its lock timeout) and then find the models whole, never half rebuilt. The
asynchronous ones are emptied with their tracked position in one transaction, and their
runners then follow the log from its start."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing.application import Application

from projections.accounts import AccountsProjection
from projections.pipeline import AsyncProjection

BATCH = 5000


def rebuild_inline(
    conninfo: str,
    app: Application[Any],
    projection: AccountsProjection,
    *,
    batch_size: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Empty the inline tables and write them again from every event; return the events read."""
    recorder: Any = app.recorder
    read = 0
    with psycopg.connect(conninfo) as conn, conn.transaction(), conn.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(f"LOCK TABLE {recorder.events_table_name} IN EXCLUSIVE MODE")
        projection.reset(cursor)
        position = 0
        while True:
            # Read on other connections: the lock held here lets readers through.
            notifications = recorder.select_notifications(
                start=position, limit=batch_size, inclusive_of_start=False
            )
            if not notifications:
                break
            events = [app.mapper.to_domain_event(notification) for notification in notifications]
            for sql, params in projection.statements(events):
                cursor.execute(sql, params)
            position = notifications[-1].id
            read += len(notifications)
            if progress is not None:
                progress(read)
    return read


def reset_async(conninfo: str, app_name: str, projections: Sequence[AsyncProjection]) -> None:
    """Empty each projection's tables and forget its position, in one transaction each."""
    with psycopg.connect(conninfo) as conn:
        for projection in projections:
            with conn.transaction(), conn.cursor() as cursor:
                projection.reset(cursor)
                cursor.execute(
                    f'DELETE FROM "{projection.tracking_table}" WHERE application_name = %s', (app_name,)
                )

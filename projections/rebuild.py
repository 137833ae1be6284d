"""Rebuilding read models from the first event, by the same projection code that writes them.

The inline models are rebuilt in one transaction that holds the log's lock: saves wait (each
for at most its lock timeout) and then find the models whole, never half rebuilt. The
asynchronous ones are emptied with their tracked position in one transaction, and their
runners then follow the log from its start."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

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
    """Empty the inline tables and write them again from every event, by the projection's own
    handlers, in batches written by COPY; return the events read. The next batch is read and
    decoded in a thread of its own while one is written."""
    recorder: Any = app.recorder
    read = 0
    # Every customer's first event is its registration: a rebuild knows every emp it needs.
    emp_of: dict[Any, Any] = {}

    select = (
        f"SELECT notification_id, originator_id, originator_version, topic, state"
        f" FROM {recorder.events_table_name} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    )

    def events_after(reading: psycopg.Connection[Any], position: int) -> tuple[int, list[Any]]:
        # On a connection of its own: the lock held by the rebuild lets readers through.
        rows = reading.execute(select, (position, batch_size)).fetchall()
        last = rows[-1][0] if rows else position
        to_domain_event = app.mapper.to_domain_event
        return last, [to_domain_event(StoredEvent(row[1], row[2], row[3], bytes(row[4]))) for row in rows]

    with (
        psycopg.connect(conninfo) as conn,
        psycopg.connect(conninfo, autocommit=True) as reading,
        conn.transaction(),
        conn.cursor() as cursor,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-read") as reader,
    ):
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(f"LOCK TABLE {recorder.events_table_name} IN EXCLUSIVE MODE")
        projection.reset(cursor)
        ahead = reader.submit(events_after, reading, 0)
        while True:
            position, events = ahead.result()
            if not events:
                break
            ahead = reader.submit(events_after, reading, position)
            projection.batch(events, emp_of).write(cursor)
            read += len(events)
            if progress is not None:
                progress(read)
    return read


def reset_async(conninfo: str, app_name: str, projections: Sequence[AsyncProjection]) -> None:
    """Empty each rebuilt projection's tables and forget its position, in one transaction each."""
    with psycopg.connect(conninfo) as conn:
        for projection in (projection for projection in projections if projection.rebuilt):
            with conn.transaction(), conn.cursor() as cursor:
                projection.reset(cursor)
                cursor.execute(
                    f'DELETE FROM "{projection.tracking_table}" WHERE application_name = %s', (app_name,)
                )

"""A projection's view: its tables and its tracking row, always written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import Cursor


class ReadModelView(PostgresTrackingRecorder):
    """Exactly once: a replayed batch fails the tracking insert and rolls back its changes."""

    def __init__(self, datastore: PostgresDatastore, *, tracking_table_name: str) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name)


class ReadModelProjection(Projection[ReadModelView]):
    """Applies events to its tables; subclasses implement `apply(event, cursor)` and may
    buffer rows to write them all at the end of the batch in `flush(cursor)`.

    `topics` (empty: every event) narrows what the worker reads. The tracked position moves
    over the events the projection does not read too, so waiting on a position never stalls.
    """

    def apply(self, domain_event: Any, cursor: Cursor[Any]) -> None:
        raise NotImplementedError

    def begin_batch(self) -> None:
        """Forget what a failed batch may have buffered."""

    def flush(self, cursor: Cursor[Any]) -> None:
        """Write what `apply` buffered (outside the pipeline, so COPY can be used)."""

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_batch([domain_event], tracking)

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        """Apply events up to the tracked position in one transaction with the tracking row."""
        view = self.view
        self.begin_batch()
        with view.datastore.transaction(commit=True) as cursor:
            # A read model can always be rebuilt from the log, and its tracking row commits with
            # it: a crash can lose both together, never one. No need to wait for the disk.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            if events:
                with cursor.connection.pipeline():
                    # Pipelined: a batch's statements go out without waiting for each round trip.
                    for domain_event in events:
                        self.apply(domain_event, cursor)
                self.flush(cursor)
            view._insert_tracking(cursor, tracking)

    def position(self, application_name: str) -> int:
        return self.view.max_tracking_id(application_name) or 0

    def reset(self, cursor: Cursor[Any]) -> None:
        """Empty this projection's tables (for a rebuild from zero)."""
        raise NotImplementedError

    def rebuild_from_zero(self, application_name: str) -> None:
        """Empty the tables and forget the tracked position, in one transaction."""
        view = self.view
        with view.datastore.transaction(commit=True) as cursor:
            self.reset(cursor)
            cursor.execute(
                f'DELETE FROM "{view.tracking_table_name}" WHERE application_name = %s',
                (application_name,),
            )

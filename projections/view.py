"""A projection's view: its tables and its tracking row, always written in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import partial
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import Cursor, pq


class ReadModelView(PostgresTrackingRecorder):
    """Exactly once: a replayed batch fails the tracking insert and rolls back its changes."""

    def __init__(self, datastore: PostgresDatastore, *, tracking_table_name: str) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name)

    def move_tracking(self, cursor: Cursor[Any], tracking: Tracking, previous: int) -> None:
        """Move the tracked position from `previous` to the batch's end; fails the transaction
        (IntegrityError) if it is no longer at `previous`: two workers that read the same
        stretch of the log (one per process, by mistake) then never both apply it, whatever
        their batch ends. The row lock makes the second wait for the first, then see its
        position. A statement with no result, so it costs a pipeline no round trip."""
        cursor.execute(
            "SELECT chargeledger_move_tracking(%s, %s, %s, %s)",
            (self.tracking_table_name, tracking.application_name, previous, tracking.notification_id),
        )


# One SQL statement and its parameters.
Statement = tuple[str, list[Any]]


class NeedsTheDatabase(Exception):
    """A handler executes or reads as it goes: its batch cannot be sent as one statement."""


class DeferringCursor:
    """Stands in for the cursor while a batch is tried as one statement: handlers that only
    buffer rows never touch it; one that executes or reads as it goes ends the try."""

    def execute(self, *args: Any, **kwargs: Any) -> None:
        raise NeedsTheDatabase

    @property
    def connection(self) -> Any:
        raise NeedsTheDatabase


class ReadModelProjection(Projection[ReadModelView]):
    """Applies events to its tables; subclasses implement `apply(event, cursor)` and may
    buffer rows to write them all at the end of the batch (`flush_statements`, `flush`).

    `topics` (empty: every event) narrows what the worker reads. The tracked position moves
    over the events the projection does not read too, so waiting on a position never stalls.
    """

    def __init__(self, view: ReadModelView) -> None:
        super().__init__(view)
        # `apply` resolved once per event class: a `singledispatchmethod` otherwise builds a
        # new bound function for every event, a tenth of a rebuild's time.
        self._handlers: dict[type, Callable[[Any, Cursor[Any]], None]] = {}

    def apply(self, domain_event: Any, cursor: Cursor[Any]) -> None:
        raise NotImplementedError

    def _handler_for(self, kind: type) -> Callable[[Any, Cursor[Any]], None]:
        method = next(klass.__dict__["apply"] for klass in type(self).__mro__ if "apply" in klass.__dict__)
        dispatcher = getattr(method, "dispatcher", None)
        if dispatcher is None:  # a plain method: nothing to resolve
            return self.apply
        return partial(dispatcher.dispatch(kind), self)

    def begin_batch(self) -> None:
        """Forget what a failed batch may have buffered."""

    def flush_statements(self) -> list[Statement]:
        """What `apply` buffered, as statements: a batch's rows of one kind in one statement.
        Each touches rows no other statement of the batch touches (a table each, say): the
        worker may run them, with every other view's, as parts of one statement."""
        return []

    def flush(self, cursor: Cursor[Any]) -> None:
        """Write what `apply` buffered."""
        for sql, params in self.flush_statements():
            cursor.execute(sql, params)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_batch([domain_event], tracking)

    def process_batch(self, events: Sequence[Any], tracking: Tracking) -> None:
        """Apply events up to the tracked position in one transaction with the tracking row."""
        with self.view.datastore.transaction(commit=True) as cursor, cursor.connection.pipeline():
            without_waiting_for_disk(cursor)
            self.apply_batch(cursor, events, tracking)

    def apply_batch(
        self, cursor: Cursor[Any], events: Sequence[Any], tracking: Tracking, previous: int | None = None
    ) -> None:
        """Apply events and record the tracking row inside the caller's transaction; with
        `previous`, only if the view is still tracked there (see ReadModelView.move_tracking)."""
        self.apply_events(cursor, events)
        if previous is None:
            self.view._insert_tracking(cursor, tracking)
        else:
            self.view.move_tracking(cursor, tracking, previous)

    def apply_events(self, cursor: Cursor[Any], events: Sequence[Any]) -> None:
        """Apply events inside the caller's transaction, without tracking them.
        The statements of `apply` go out pipelined, without waiting for each round trip; a
        caller that runs the whole transaction in a pipeline saves even the round trips of
        BEGIN, flush and COMMIT (but `flush` cannot use COPY then)."""
        self.begin_batch()
        with nullcontext() if in_pipeline(cursor) else cursor.connection.pipeline():
            self._handle(events, cursor)
        self.flush(cursor)

    def buffered_statements(self, events: Sequence[Any]) -> list[Statement] | None:
        """The batch as statements, when every handler only buffered rows (the steady state:
        sessions and balance movements); None when one executes or reads as it goes (the
        batch is then applied with `apply_events`, in a transaction)."""
        self.begin_batch()
        try:
            self._handle(events, DeferringCursor())  # type: ignore[arg-type]
            return self.flush_statements()
        except NeedsTheDatabase:
            return None
        finally:
            self.begin_batch()

    def _handle(self, events: Sequence[Any], cursor: Cursor[Any]) -> None:
        handlers = self._handlers
        for domain_event in events:
            kind = type(domain_event)
            handler = handlers.get(kind)
            if handler is None:
                handler = handlers[kind] = self._handler_for(kind)
            handler(domain_event, cursor)

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


def without_waiting_for_disk(cursor: Cursor[Any]) -> None:
    """A read model can always be rebuilt from the log, and its tracking row commits with it: a
    crash can lose both together, never one. Its commits need not wait for the disk."""
    cursor.execute("SET LOCAL synchronous_commit TO OFF")


def in_pipeline(cursor: Cursor[Any]) -> bool:
    return cursor.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF

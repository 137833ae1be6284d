"""The event store's recorder, extended to write each event's chain link in the same
transaction as the event: what is stored and what is chained can never disagree."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg import Cursor

from commands.fail_fast import FailFastApplicationRecorder
from domain.chain import genesis, link

CACHE_SIZE = 100_000


class HashChainedRecorder(FailFastApplicationRecorder):
    """Set `chain_key` (CHARGELEDGER_HMAC_KEY) after construction to make links keyed MACs."""

    chain_key: bytes | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The last links seen, so a save rarely reads its stream's previous link back.
        self._links: OrderedDict[tuple[UUID, int], bytes] = OrderedDict()
        self._written = threading.local()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        self._written.batch = {}
        self._written.rows = []
        result = super().insert_events(stored_events, **kwargs)
        # Only links that were committed may serve as the previous link of a later write.
        for key, value in self._written.batch.items():
            self._remember(key, value)
        return result

    def _insert_stored_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        reader = curs.connection.cursor()
        rows = []
        batch: dict[tuple[UUID, int], bytes] = {}
        for stored in stored_events:
            originator_id = UUID(str(stored.originator_id))
            version = int(stored.originator_version)
            previous = self._previous(reader, originator_id, version, batch)
            current = link(previous, originator_id, version, stored.topic, stored.state, self.chain_key)
            batch[(originator_id, version)] = current
            rows.append((originator_id, version, current))
        self._written.rows = rows
        super()._insert_stored_events(curs, stored_events, **kwargs)
        self._written.batch = batch

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Any:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        # Only now, with the events in: a repeated event has failed as an IntegrityError
        # before any link was sent, and the links go on a cursor of their own.
        if self._written.rows:
            curs.connection.cursor().executemany(
                "INSERT INTO event_chain (originator_id, originator_version, link) VALUES (%s, %s, %s)",
                self._written.rows,
            )
        return ids

    def _previous(
        self, curs: Cursor[Any], originator_id: UUID, version: int, batch: dict[tuple[UUID, int], bytes]
    ) -> bytes:
        if version == 1:
            return genesis(originator_id, self.chain_key)
        key = (originator_id, version - 1)
        if key in batch:
            return batch[key]
        if key in self._links:
            return self._links[key]
        curs.execute("SELECT link FROM event_chain WHERE originator_id = %s AND originator_version = %s", key)
        row = curs.fetchone()
        if row is None:
            # A stream without its previous link: record a link the verifier will refuse.
            return b"missing-previous-link"
        return bytes(row["link"] if isinstance(row, dict) else row[0])

    def _remember(self, key: tuple[UUID, int], value: bytes) -> None:
        self._links[key] = value
        self._links.move_to_end(key)
        while len(self._links) > CACHE_SIZE:
            self._links.popitem(last=False)

"""The event store's recorder, extended to write each event's chain link, and the rows the
events cause in the inline read models, in the same transaction as the events: what is stored,
what is chained and what the inline models read can never disagree."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent
from psycopg import Cursor

from commands.fail_fast import FailFastApplicationRecorder, fail_fast
from commands.ports import Statement
from domain.chain import genesis, link

CACHE_SIZE = 100_000
# Arrays go in binary: dumping them as text costs the client six times as much.
RECORD_EVENTS = (
    "SELECT chargeledger_record_events(%s, %s, %s,"
    " %b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[])"
)


class HashChainedRecorder(FailFastApplicationRecorder):
    """Set `chain_key` (CHARGELEDGER_HMAC_KEY) after construction to make links keyed MACs."""

    chain_key: bytes | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each stream's last link seen, so a save rarely reads it back: stream id -> version
        # (8 bytes) and link, all bytes, which the garbage collector never has to look at.
        self._links: OrderedDict[bytes, bytes] = OrderedDict()

    @fail_fast
    def insert_events(
        self, stored_events: Sequence[StoredEvent], *, inline: Sequence[Statement] = (), **kwargs: Any
    ) -> Sequence[int] | None:
        """Record events and their chain links (migrations/0009) and run the inline read
        models' statements, all as one statement: one round trip, one transaction. The inline
        statements are its data-modifying WITH parts; PostgreSQL runs them after the main
        query, so the log's lock is always taken first and two saves never deadlock."""
        if kwargs.get("tracking") is not None:
            raise ProgrammingError("the ledger's log records no tracking with its events")
        if not stored_events:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            originator_ids: list[UUID] = []
            versions: list[int] = []
            links: list[bytes] = []
            batch: dict[tuple[UUID, int], bytes] = {}
            for stored in stored_events:
                originator_id = UUID(str(stored.originator_id))
                version = int(stored.originator_version)
                previous = self._previous(curs, originator_id, version, batch)
                current = link(previous, originator_id, version, stored.topic, stored.state, self.chain_key)
                batch[(originator_id, version)] = current
                originator_ids.append(originator_id)
                versions.append(version)
                links.append(current)
            params: list[Any] = [
                self.events_table_name,
                self.channel_name,
                f"{self.datastore.lock_timeout}s",
                originator_ids,
                versions,
                [stored.topic for stored in stored_events],
                [stored.state for stored in stored_events],
                links,
            ]
            if inline:
                parts = ", ".join(f"part{n} AS ({sql})" for n, (sql, _) in enumerate(inline))
                values = [value for _, part_values in inline for value in part_values]
                curs.execute(f"WITH {parts} {RECORD_EVENTS}", [*values, *params])
            else:
                curs.execute(RECORD_EVENTS, params, prepare=True)
            notification_ids = [row["chargeledger_record_events"] for row in curs.fetchall()]
        # Only links that were committed may serve as the previous link of a later write.
        for key, value in batch.items():
            self._remember(key, value)
        return notification_ids

    def _previous(
        self, curs: Cursor[Any], originator_id: UUID, version: int, batch: dict[tuple[UUID, int], bytes]
    ) -> bytes:
        if version == 1:
            return genesis(originator_id, self.chain_key)
        key = (originator_id, version - 1)
        if key in batch:
            return batch[key]
        known = self._links.get(originator_id.bytes)
        if known is not None and known[:8] == (version - 1).to_bytes(8, "big"):
            return known[8:]
        curs.execute("SELECT link FROM event_chain WHERE originator_id = %s AND originator_version = %s", key)
        row = curs.fetchone()
        if row is None:
            # A stream without its previous link: record a link the verifier will refuse.
            return b"missing-previous-link"
        return bytes(row["link"] if isinstance(row, dict) else row[0])

    def _remember(self, key: tuple[UUID, int], value: bytes) -> None:
        stream = key[0].bytes
        self._links[stream] = key[1].to_bytes(8, "big") + value
        self._links.move_to_end(stream)
        while len(self._links) > CACHE_SIZE:
            self._links.popitem(last=False)

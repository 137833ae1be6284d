"""Erasure of events stored before personal fields were sealed: their plain personal values are
replaced by None in place, and each rewritten event gets a reseal link (`event_reseals`,
migrations/0020) so that verification still proves every stored byte.

The event's own link stays as it was (the next event is chained from it); the reseal link covers
the previous link, that original link and the rewritten bytes (`domain/chain.py`, `resealed`).
An event is rewritten only after its original bytes were checked against its link: a tampered
event is never laundered by an erasure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import resolve_topic

from commands.data_keys import PostgresDataKeys
from commands.personal_data import is_sealed, personal_fields, replace
from domain.chain import genesis, link, resealed


class TamperedEvent(RuntimeError):
    """An event to be resealed no longer matches its chain link."""


class PostgresErasure:
    """Destroys a customer's key and every plain copy of its personal data in the event store,
    in one transaction: events stored before sealing are resealed (those of its invoices and
    credit notes too), and its snapshots are deleted (the next ones are taken without)."""

    def __init__(
        self, keys: PostgresDataKeys, events_table: str, snapshots_table: str | None, chain_key: bytes | None
    ) -> None:
        self.keys = keys
        self.events_table = events_table
        self.snapshots_table = snapshots_table
        self.chain_key = chain_key

    def __call__(self, subject: UUID) -> None:
        with self.keys.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            self.keys.destroy(subject, cursor)
            cursor.execute(
                "SELECT id FROM invoices WHERE customer_id = %s UNION SELECT id FROM credit_notes"
                " WHERE customer_id = %s",
                (subject, subject),
            )
            streams = [subject, *(row["id"] for row in cursor.fetchall())]
            reseal_plain_events(cursor, self.events_table, streams, self.chain_key)
            if self.snapshots_table:
                cursor.execute(
                    f"DELETE FROM {self.snapshots_table} WHERE originator_id = ANY(%s)", (streams,)
                )


def reseal_plain_events(cursor: Any, events_table: str, streams: list[UUID], key: bytes | None) -> int:
    """Reseal every event of the streams that still holds a plain personal value; the number
    rewritten. Already resealed or sealed events hold none, so a repeat rewrites nothing."""
    rewritten = 0
    for stream in streams:
        cursor.execute(
            f"SELECT e.originator_version AS version, e.topic, e.state, c.link FROM {events_table} e"
            " LEFT JOIN event_chain c ON c.originator_id = e.originator_id"
            " AND c.originator_version = e.originator_version"
            " WHERE e.originator_id = %s ORDER BY e.originator_version",
            (stream,),
        )
        previous = genesis(stream, key)
        for row in cursor.fetchall():
            state, original = bytes(row["state"]), row["link"]
            scrubbed = _scrubbed(row["topic"], state)
            if scrubbed is not None and original is not None:
                original = bytes(original)
                if link(previous, stream, row["version"], row["topic"], state, key) != original:
                    raise TamperedEvent(f"event {row['version']} of stream {stream} does not match its link")
                cursor.execute(
                    f"UPDATE {events_table} SET state = %s"
                    " WHERE originator_id = %s AND originator_version = %s",
                    (scrubbed, stream, row["version"]),
                )
                cursor.execute(
                    "INSERT INTO event_reseals (originator_id, originator_version, link) VALUES (%s, %s, %s)"
                    " ON CONFLICT (originator_id, originator_version) DO UPDATE SET link = excluded.link",
                    (
                        stream,
                        row["version"],
                        resealed(previous, original, stream, row["version"], row["topic"], scrubbed, key),
                    ),
                )
                rewritten += 1
            previous = bytes(original) if original is not None else previous
    return rewritten


def _scrubbed(topic: str, state: bytes) -> bytes | None:
    """The stored bytes with every plain personal value replaced by None; None if none is."""
    try:
        paths = personal_fields(resolve_topic(topic))
    except Exception:  # a topic no class answers to any more holds nothing we know of
        return None
    if not paths:
        return None
    data = msgspec.json.decode(state)
    found = []

    def scrub(value: Any) -> None:
        if value is not None and not is_sealed(value):
            found.append(True)
        return None

    for path in paths:
        replace(data, path, lambda value: value if is_sealed(value) else scrub(value))
    return msgspec.json.encode(data) if found else None

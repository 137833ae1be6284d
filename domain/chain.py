"""Tamper evidence: each stream's events are hash-chained. An event's link covers its
stream, position, topic and stored bytes, and the previous link; with a key the chain is a
keyed MAC (HMAC-SHA256), so only the key holder can forge it. An event rewritten by a
personal-data erasure keeps its link and gets a reseal link over its new bytes."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID


def genesis(originator_id: UUID, key: bytes | None) -> bytes:
    return _digest(key, b"chargeledger-chain-v1" + originator_id.bytes)


def link(
    previous: bytes, originator_id: UUID, version: int, topic: str, state: bytes, key: bytes | None
) -> bytes:
    topic_bytes = topic.encode()
    return _digest(
        key,
        b"".join(
            (
                previous,
                originator_id.bytes,
                version.to_bytes(8, "big"),
                len(topic).to_bytes(4, "big"),
                topic_bytes,
                state,
            )
        ),
    )


def resealed(
    previous: bytes,
    original: bytes,
    originator_id: UUID,
    version: int,
    topic: str,
    state: bytes,
    key: bytes | None,
) -> bytes:
    """The link of an event rewritten by an erasure (its plain personal values replaced): over
    the previous link, the event's original link and its new bytes."""
    return _digest(
        key, b"chargeledger-reseal-v1" + original + link(previous, originator_id, version, topic, state, key)
    )


def _digest(key: bytes | None, message: bytes) -> bytes:
    if key:
        return hmac.digest(key, message, "sha256")
    return hashlib.sha256(message).digest()

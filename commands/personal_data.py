"""Crypto-shredding: the personal fields of events are sealed (AES-GCM) with a data key of the
customer they are about, in one place, as events are stored and read. An event class names its
personal fields in `PERSONAL` (dotted for a key of a dict field: `changes.email`) and, when the
customer is not the stream itself, the field naming it in `PERSONAL_SUBJECT`. Once the key is
destroyed those fields read as None and everything else reads as stored.

A sealed value is stored as `{"_personal_": base64(nonce + ciphertext)}` in place of the value;
events stored before sealing (plain values) read as they are."""

from __future__ import annotations

import base64
import os
from functools import cache
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from commands.data_keys import DataKeys, InMemoryDataKeys

SEALED = "_personal_"
NONCE_BYTES = 12


@cache
def personal_fields(cls: type) -> tuple[tuple[str, ...], ...]:
    """The class's personal fields, each as its path of keys (asked for every event read)."""
    return tuple(tuple(name.split(".")) for name in getattr(cls, "PERSONAL", ()))


def subject_of(cls: type, originator_id: UUID, state: dict[str, Any]) -> UUID:
    """The customer whose key seals the event's personal fields."""
    field = getattr(cls, "PERSONAL_SUBJECT", None)
    if field is None:
        return originator_id
    value = state[field]
    return value if isinstance(value, UUID) else UUID(str(value))


def is_sealed(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and SEALED in value


class PersonalDataMapper(Mapper[UUID]):
    """The library's mapper, sealing personal fields on the way in and opening them on the way
    out. `keys` is set by the Ledger once its recorder exists."""

    keys: DataKeys = InMemoryDataKeys()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls: type = type(domain_event)
        paths = personal_fields(cls)
        if not paths:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        subject = subject_of(cls, originator_id, state)
        key = self.keys.for_writing(subject)
        for path in paths:
            replace(state, path, lambda value, path=path: self._seal(value, key, subject, path))
        stored_state = self.transcoder.encode(state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(originator_id, originator_version, get_topic(cls), stored_state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        cls = type(domain_event)
        paths = personal_fields(cls)
        if paths:
            state = vars(domain_event)
            subject = subject_of(cls, domain_event.originator_id, state)
            for path in paths:
                replace(state, path, lambda value, path=path: self._open(value, subject, path))
        elif getattr(cls, "ERASES_KEY", False):
            self.keys.forget(domain_event.originator_id)  # another process destroyed it
        return domain_event

    def _seal(self, value: Any, key: bytes | None, subject: UUID, path: tuple[str, ...]) -> Any:
        if value is None or key is None:  # an erased customer's new personal data is not kept
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, self.transcoder.encode(value), aad(subject, path))
        return {SEALED: base64.b64encode(nonce + sealed).decode()}

    def _open(self, value: Any, subject: UUID, path: tuple[str, ...]) -> Any:
        if not is_sealed(value):
            return value  # stored before sealing, or None
        key = self.keys.for_reading(subject)
        if key is None:
            return None  # erased
        raw = base64.b64decode(value[SEALED])
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad(subject, path))
        return self.transcoder.decode(plain)


def aad(subject: UUID, path: tuple[str, ...]) -> bytes:
    # A sealed value opens only for its customer and in its own place.
    return subject.bytes + ".".join(path).encode()


def replace(state: dict[str, Any], path: tuple[str, ...], change: Any) -> None:
    """Replace the value at path (absent: nothing), copying the dicts on the way so the
    event's own values are never changed."""
    name, rest = path[0], path[1:]
    if name not in state:
        return
    if not rest:
        state[name] = change(state[name])
    elif type(state[name]) is dict:
        state[name] = dict(state[name])
        replace(state[name], rest, change)

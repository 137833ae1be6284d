"""Each customer's data key (AES-256), kept in `personal_data_keys` (migrations/0020), apart
from the events it seals. Destroying a key leaves its row with no key: the customer stays
erased, and personal data recorded for it later is not kept either.

With CHARGELEDGER_PERSONAL_DATA_KEY (32 bytes, base64) every data key is stored wrapped by that
master key (AES-GCM), so a copy of the database alone opens nothing. Without it the data keys
are stored as they are (the default of `make run`): erasure still destroys them."""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections import OrderedDict
from typing import Any, Protocol
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_VARIABLE = "CHARGELEDGER_PERSONAL_DATA_KEY"
PLAIN, WRAPPED = b"\x00", b"\x01"
CACHE_SIZE = 100_000


class DataKeys(Protocol):
    def for_writing(self, subject: UUID) -> bytes | None:
        """The subject's key, made on first use; None once destroyed."""

    def for_reading(self, subject: UUID) -> bytes | None:
        """The subject's key; None once destroyed (or never made)."""

    def destroy(self, subject: UUID) -> None: ...

    def forget(self, subject: UUID) -> None:
        """Drop what this process remembers of the subject's key."""


class _Remembered:
    """Keys this process has read, bounded; a destroyed key is remembered as None."""

    def __init__(self) -> None:
        self._keys: OrderedDict[UUID, bytes | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, subject: UUID) -> tuple[bool, bytes | None]:
        with self._lock:
            if subject not in self._keys:
                return False, None
            self._keys.move_to_end(subject)
            return True, self._keys[subject]

    def put(self, subject: UUID, key: bytes | None) -> None:
        with self._lock:
            self._keys[subject] = key
            while len(self._keys) > CACHE_SIZE:
                self._keys.popitem(last=False)

    def forget(self, subject: UUID) -> None:
        with self._lock:
            self._keys.pop(subject, None)


class InMemoryDataKeys:
    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}

    def for_writing(self, subject: UUID) -> bytes | None:
        return self._keys.setdefault(subject, AESGCM.generate_key(256))

    def for_reading(self, subject: UUID) -> bytes | None:
        return self._keys.get(subject)

    def destroy(self, subject: UUID) -> None:
        self._keys[subject] = None

    def forget(self, subject: UUID) -> None:
        """Nothing is remembered apart from the keys themselves."""


class PostgresDataKeys:
    """`connection()` gives an autocommit connection (the event store's pool): a new key is
    committed before the events it seals, so no event is ever sealed with a lost key."""

    def __init__(self, connection: Any, master_key: bytes | None = None) -> None:
        self.connection = connection
        self._master = None if master_key is None else AESGCM(master_key)
        self._remembered = _Remembered()

    def for_writing(self, subject: UUID) -> bytes | None:
        known, key = self._remembered.get(subject)
        if known:
            return key
        with self.connection() as conn:
            row = conn.execute(
                "WITH made AS (INSERT INTO personal_data_keys (subject_id, data_key) VALUES (%s, %s)"
                " ON CONFLICT (subject_id) DO NOTHING RETURNING data_key)"
                " SELECT data_key FROM made UNION ALL"
                " SELECT data_key FROM personal_data_keys WHERE subject_id = %s",
                (subject, self._wrap(subject, AESGCM.generate_key(256)), subject),
            ).fetchone()
        key = self._unwrap(subject, row[0] if not isinstance(row, dict) else row["data_key"])
        self._remembered.put(subject, key)
        return key

    def for_reading(self, subject: UUID) -> bytes | None:
        known, key = self._remembered.get(subject)
        if known:
            return key
        with self.connection() as conn:
            row = conn.execute(
                "SELECT data_key FROM personal_data_keys WHERE subject_id = %s", (subject,)
            ).fetchone()
        stored = None if row is None else (row[0] if not isinstance(row, dict) else row["data_key"])
        key = self._unwrap(subject, stored)
        if row is not None:
            self._remembered.put(subject, key)
        return key

    def destroy(self, subject: UUID, cursor: Any = None) -> None:
        """In the caller's transaction when a cursor is given."""
        if cursor is None:
            with self.connection() as conn, conn.cursor() as own:
                self.destroy(subject, own)
            return
        cursor.execute(
            "INSERT INTO personal_data_keys (subject_id, data_key, destroyed_at) VALUES (%s, NULL, now())"
            " ON CONFLICT (subject_id) DO UPDATE SET data_key = NULL,"
            " destroyed_at = coalesce(personal_data_keys.destroyed_at, now())",
            (subject,),
        )
        self._remembered.put(subject, None)

    def forget(self, subject: UUID) -> None:
        self._remembered.forget(subject)

    def _wrap(self, subject: UUID, key: bytes) -> bytes:
        if self._master is None:
            return PLAIN + key
        nonce = os.urandom(12)
        return WRAPPED + nonce + self._master.encrypt(nonce, key, subject.bytes)

    def _unwrap(self, subject: UUID, stored: bytes | None) -> bytes | None:
        if stored is None:
            return None
        stored = bytes(stored)
        if stored[:1] == PLAIN:
            return stored[1:]
        if self._master is None:
            raise RuntimeError(f"data keys are wrapped: set {MASTER_KEY_VARIABLE} to open them")
        return self._master.decrypt(stored[1:13], stored[13:], subject.bytes)


def master_key(environ: dict[str, str] | None = None) -> bytes | None:
    """The master key from the environment (None when unset); a malformed one stops the start."""
    text = (os.environ if environ is None else environ).get(MASTER_KEY_VARIABLE, "").strip()
    if not text:
        return None
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ValueError(f"{MASTER_KEY_VARIABLE} must be 32 bytes in base64 (openssl rand -base64 32)")
    return key

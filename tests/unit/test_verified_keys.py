"""The keys a process remembers (api/verified_keys.py): only while it hears revocations, never
past one, and never an answer looked up before a revocation was heard."""

from __future__ import annotations

import uuid

from api.keys import Principal
from api.verified_keys import VerifiedKeys

TOKEN = "clk_the-token"


def listening(keys: VerifiedKeys) -> VerifiedKeys:
    keys._connected()  # what the LISTEN connection does once it is up
    return keys


def principal() -> Principal:
    return Principal(role="emp", emp_id=uuid.uuid4(), key_id=uuid.uuid4())


def test_a_verified_key_is_remembered_until_it_is_revoked() -> None:
    keys, who = listening(VerifiedKeys()), principal()
    keys.put(TOKEN, who, keys.generation)
    assert keys.get(TOKEN) == who
    keys.forget(str(who.key_id))
    assert keys.get(TOKEN) is None


def test_a_lookup_that_began_before_a_revocation_is_not_remembered() -> None:
    keys, who = listening(VerifiedKeys()), principal()
    began = keys.generation
    keys.forget(str(who.key_id))  # heard while the lookup was in the database
    keys.put(TOKEN, who, began)
    assert keys.get(TOKEN) is None


def test_nothing_is_remembered_while_revocations_cannot_be_heard() -> None:
    keys, who = VerifiedKeys(), principal()
    keys.put(TOKEN, who, keys.generation)  # not listening yet
    assert keys.get(TOKEN) is None
    listening(keys).put(TOKEN, who, keys.generation)
    keys._lost()
    assert keys.get(TOKEN) is None
    keys._connected()  # what was sent meanwhile is gone: everything was forgotten
    assert keys.get(TOKEN) is None


def test_an_entry_lives_at_most_its_ttl() -> None:
    now = [0.0]
    keys, who = listening(VerifiedKeys(ttl=60, clock=lambda: now[0])), principal()
    keys.put(TOKEN, who, keys.generation)
    now[0] = 59.9
    assert keys.get(TOKEN) == who
    now[0] = 60.0
    assert keys.get(TOKEN) is None

"""The hash chain's links are fixed for good: a stored chain must verify under every later
version of the code, so these values never change."""

from __future__ import annotations

from uuid import UUID

from domain.chain import genesis, link

STREAM = UUID("12345678-1234-5678-1234-567812345678")
TOPIC = "chargeledger:Customer.Registered"


def test_a_stream_starts_from_its_genesis_link() -> None:
    assert genesis(STREAM, None).hex() == "1ae1a9dcf56f4a9a4fc0dcad0157e5ecdf4e57ab81cc0081f827c7e836106455"


def test_an_event_s_link_covers_the_previous_link_its_position_topic_and_bytes() -> None:
    first = link(genesis(STREAM, None), STREAM, 1, TOPIC, b'{"a":1}', None)
    assert first.hex() == "99477921f2d1d1d0ca3f4b3ee484eb8c8cfb230bf0d0466e4c2468c3088e3b5c"
    assert link(genesis(STREAM, None), STREAM, 2, TOPIC, b'{"a":1}', None) != first
    assert link(genesis(STREAM, None), STREAM, 1, TOPIC, b'{"a":2}', None) != first


def test_with_a_key_the_link_is_a_keyed_mac() -> None:
    keyed = link(genesis(STREAM, None), STREAM, 1, TOPIC, b'{"a":1}', b"key")
    assert keyed.hex() == "30bb3af762ed2c2097c2012e008b52caae096c68d5399b7f85d812d50cf39bb1"

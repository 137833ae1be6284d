"""Events written and read with msgspec are exactly what the library's own transcoder writes
and reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given
from hypothesis import strategies as st

from commands.transcoder import FastDecodingJSONTranscoder


def registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = registered(JSONTranscoder())
FAST = registered(FastDecodingJSONTranscoder())

offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.text(),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.one_of(st.just(UTC), offsets)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(["_type_", "_data_"])), inner, max_size=4
        ),
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_the_fast_decoder_reads_what_the_library_wrote_as_the_library_does(state: dict[str, Any]) -> None:
    data = LIBRARY.encode(state)
    try:
        expected = LIBRARY.decode(data)
    except Exception as error:  # a user dict that looks like an unknown registered type
        try:
            FAST.decode(data)
        except Exception as fast_error:
            assert type(fast_error) is type(error)
            return
        raise AssertionError("the fast decoder accepted what the library refuses") from None
    assert FAST.decode(data) == expected


@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_what_the_fast_encoder_writes_the_library_reads_as_what_it_wrote_itself(
    state: dict[str, Any],
) -> None:
    try:
        expected = LIBRARY.decode(LIBRARY.encode(state))
    except Exception:  # a user dict that looks like a registered type: not an event's state
        return
    assert LIBRARY.decode(FAST.encode(state)) == expected
    assert FAST.decode(FAST.encode(state)) == expected


def test_an_event_state_with_every_registered_type() -> None:
    state = {
        "originator_id": UUID("12345678123456781234567812345678"),
        "timestamp": datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        "amount_minor": -1250,
        "price": Decimal("12.50"),
        "session_ids": ["S-1", "S-2"],
        "nested": [{"at": datetime(50, 11, 24, 20, 58, tzinfo=timezone(timedelta(hours=20, minutes=59)))}],
        "location": None,
    }
    assert FAST.decode(LIBRARY.encode(state)) == state
    assert FAST.decode(FAST.encode(state)) == state

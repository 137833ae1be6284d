"""Verified keys are remembered for a short while only, and only when they were valid."""

from __future__ import annotations

from uuid import uuid4

from api.keys import Principal, VerifiedKeys

EMP = Principal(role="emp", emp_id=uuid4(), key_id=uuid4())


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_key_is_remembered_until_its_time_is_up() -> None:
    clock = Clock()
    keys = VerifiedKeys(ttl=10.0, clock=clock)
    keys.put("clk_token", EMP)
    clock.now += 9.9
    assert keys.get("clk_token") == EMP
    clock.now += 0.2
    assert keys.get("clk_token") is None


def test_only_the_very_same_token_is_recognised() -> None:
    keys = VerifiedKeys()
    keys.put("clk_token", EMP)
    assert keys.get("clk_token") == EMP
    assert keys.get("clk_tokem") is None
    assert keys.get("clk_token ") is None


def test_the_memory_stays_bounded() -> None:
    keys = VerifiedKeys(max_size=3)
    for n in range(10):
        keys.put(f"clk_{n}", EMP)
    assert keys.get("clk_9") == EMP
    assert len(keys._seen) <= 3

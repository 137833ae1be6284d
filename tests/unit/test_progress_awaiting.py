"""Read-your-writes without a thread: a request awaits a log position on its event loop, and
the projection worker's thread wakes it the moment every view has applied that far."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from projections.progress import Progress


def local_progress() -> Progress:
    return Progress(["accounts", "subscriptions"], dict, local=True)


def test_an_awaited_position_is_reached_when_every_view_has_applied_it() -> None:
    progress = local_progress()

    async def scenario() -> None:
        waiting = asyncio.create_task(progress.wait_for_async(5, timeout=10))
        await asyncio.sleep(0.02)
        advance = threading.Thread(target=progress.advance, args=("accounts", 7))
        advance.start()
        advance.join()
        await asyncio.sleep(0.02)
        assert not waiting.done(), "one view is still behind"
        advance = threading.Thread(target=progress.advance, args=("subscriptions", 5))
        advance.start()
        advance.join()
        assert await asyncio.wait_for(waiting, 1) is True

    asyncio.run(scenario())


def test_a_position_already_reached_or_none_needs_no_wait() -> None:
    progress = local_progress()
    progress.advance("accounts", 3)
    progress.advance("subscriptions", 3)

    async def scenario() -> tuple[bool, bool]:
        return await progress.wait_for_async(3, timeout=0), await progress.wait_for_async(None, timeout=0)

    assert asyncio.run(scenario()) == (True, True)


def test_a_position_not_reached_in_time_is_reported_and_its_waiter_forgotten() -> None:
    progress = local_progress()

    async def scenario() -> bool:
        return await progress.wait_for_async(9, timeout=0.05)

    assert asyncio.run(scenario()) is False
    progress.advance("accounts", 9)  # nobody left to wake: no closed loop is called
    progress.advance("subscriptions", 9)
    assert progress.reached(9)


def test_many_requests_awaiting_different_positions_wake_in_order() -> None:
    progress = local_progress()

    async def scenario() -> list[int]:
        woken: list[int] = []

        async def request(position: int) -> None:
            assert await progress.wait_for_async(position, timeout=10)
            woken.append(position)

        requests = [asyncio.create_task(request(position)) for position in (30, 10, 20)]
        await asyncio.sleep(0.02)
        for position in (10, 20, 30):
            for name in ("accounts", "subscriptions"):
                await asyncio.to_thread(progress.advance, name, position)
            await asyncio.sleep(0.02)
        await asyncio.gather(*requests)
        return woken

    assert asyncio.run(scenario()) == [10, 20, 30]


def test_a_request_cancelled_while_waiting_leaves_nothing_for_the_worker_to_trip_on() -> None:
    progress = local_progress()

    async def scenario() -> None:
        waiting = asyncio.create_task(progress.wait_for_async(9, timeout=10))
        await asyncio.sleep(0.02)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting

    asyncio.run(scenario())  # its event loop is closed now
    progress.advance("accounts", 9)  # the projection worker's thread: must not raise
    progress.advance("subscriptions", 9)
    assert progress.reached(9)

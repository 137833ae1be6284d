"""Per-key rate limits: a token bucket for each API key in this process, sized by the key's role.

Runs after authentication, so only a valid key spends tokens, and one key's burst never slows
another's. The defaults leave an EMP's bulk ingestion alone; operators tighten them per role.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from api.keys import Principal
from api.problems import MEDIA_TYPE, problem_body, rate_limited


@dataclass(frozen=True)
class RateLimit:
    """`rate` requests per second on average, `burst` at once after a quiet spell."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a rate limit needs a positive rate and a burst of at least 1, not {self}")


# A role missing from the limits is not limited.
DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {
    "emp": RateLimit(rate=2000, burst=4000),
    "support": RateLimit(rate=200, burst=400),
    "auditor": RateLimit(rate=200, burst=400),
    "admin": RateLimit(rate=500, burst=1000),
}


def parse_rate_limit(text: str) -> RateLimit | None:
    """`RATE` or `RATE,BURST` (requests per second, burst); `off` for no limit. Burst: twice the rate."""
    value = text.strip().lower()
    if value == "off":
        return None
    rate_text, comma, burst_text = value.partition(",")
    try:
        rate = float(rate_text)
        burst = int(burst_text) if comma else max(1, math.ceil(rate * 2))
        return RateLimit(rate=rate, burst=burst)
    except ValueError as error:
        raise ValueError(f"not a rate limit (RATE[,BURST] or off): {text!r}: {error}") from None


# Failed authentications per client address: ten at once, then one a second.
DEFAULT_AUTH_FAILURE_LIMIT = RateLimit(rate=1, burst=10)


class TokenBucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def take(self, now: float) -> float:
        """Spend a token: 0.0 if there was one, else the seconds until there will be."""
        self.tokens = min(self.limit.burst, self.tokens + (now - self.updated) * self.limit.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.limit.rate

    def wait(self, now: float) -> float:
        """The seconds until a token will be there (0.0: one is), spending none."""
        tokens = min(self.limit.burst, self.tokens + (now - self.updated) * self.limit.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.limit.rate


class AuthFailures:
    """Failed authentications per client address, so that keys cannot be guessed at speed: each
    failure spends a token, and while an address has none its requests are refused (429) before
    their key is looked at, valid or not."""

    # Buckets kept at most; the full ones (addresses quiet long enough) go first.
    MAX_ADDRESSES = 10_000

    def __init__(self, limit: RateLimit | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def retry_after(self, address: str) -> int:
        """0 when the address may try a key, else the seconds until it may."""
        bucket = self.buckets.get(address)
        if bucket is None:
            return 0
        wait = bucket.wait(self.clock())
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def refuse_if_limited(self, address: str, what: str) -> None:
        """429 while the address may not try a key (`what` it sent: "requests", "sign-ins")."""
        retry_after = self.retry_after(address)
        if retry_after:
            raise rate_limited(
                f"too many {what} from {address} with keys that are not valid; retry after {retry_after} s",
                retry_after,
            )

    def failed(self, address: str) -> None:
        if self.limit is None:
            return
        now = self.clock()
        bucket = self.buckets.get(address)
        if bucket is None:
            if len(self.buckets) >= self.MAX_ADDRESSES:
                self._forget_quiet(now)
            bucket = self.buckets[address] = TokenBucket(self.limit, now)
        bucket.take(now)

    def _forget_quiet(self, now: float) -> None:
        for address, bucket in list(self.buckets.items()):
            if bucket.wait(now) == 0.0 and now - bucket.updated >= bucket.limit.burst / bucket.limit.rate:
                del self.buckets[address]
        if len(self.buckets) >= self.MAX_ADDRESSES:  # all busy: the oldest go
            for address in list(self.buckets)[: self.MAX_ADDRESSES // 10]:
                del self.buckets[address]


class RateLimitMiddleware:
    """ASGI middleware: 429 rate-limited, with Retry-After, once a key's bucket is empty."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Mapping[str, RateLimit] = DEFAULT_RATE_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user") if scope["type"] == "http" else None
        limit = self.limits.get(user.role) if isinstance(user, Principal) else None
        if not isinstance(user, Principal) or limit is None:
            await self.app(scope, receive, send)
            return
        # One event loop per process runs every middleware call: the buckets need no lock.
        now = self.clock()
        bucket = self.buckets.get(user.actor)
        if bucket is None or bucket.limit != limit:
            bucket = self.buckets[user.actor] = TokenBucket(limit, now)
        wait = bucket.take(now)
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        await _too_many_requests(send, scope, max(1, math.ceil(wait)), limit)


async def _too_many_requests(send: Send, scope: Scope, retry_after: int, limit: RateLimit) -> None:
    detail = (
        f"this key may send {limit.rate:g} requests per second (bursts of {limit.burst});"
        f" retry after {retry_after} s"
    )
    body = msgspec.json.encode(problem_body(429, "rate-limited", "Too many requests", detail, scope["path"]))
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})

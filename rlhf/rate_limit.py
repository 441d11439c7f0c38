"""Requests-per-minute and tokens-per-minute limits for one server, shared by every worker of a process.

A limit is a property of the server (a hosted API's quota, a shared vLLM's fair share), not of one client
object: a round's judge and its canaries, or two judge configs on the same URL, draw from the same
buckets. ``limiter_for(url, ...)`` therefore hands out one ``RateLimiter`` per (server, limits) for the
whole process; this registry is the one piece of process-wide state in the client floor, on purpose.

Each limit is a token bucket refilled continuously at rate/60 per second. The request bucket holds one
request (no burst: requests are spaced 60/rpm seconds apart, so a run holds the configured rate); the token
bucket holds one second's tokens and may go into debt, so a request larger than that waits for the debt to
be repaid instead of waiting forever. A 429 with ``Retry-After`` pauses every worker until then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "limiter_for"]


class _Bucket:
    """Capacity ``capacity``, refilled at ``per_s`` a second; ``take`` may leave it in debt (< 0)."""

    def __init__(self, per_s: float, capacity: float, now: float) -> None:
        self.per_s = per_s
        self.capacity = capacity
        self.level = capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_s)
        self.stamp = now

    def wait_s(self, amount: float) -> float:
        """Seconds until ``amount`` may be taken (enough level, or a full bucket for a larger amount)."""
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.per_s


class RateLimiter:
    """Blocks ``acquire`` until a request of ``tokens`` estimated tokens fits both limits.

    ``requests_per_min`` / ``tokens_per_min``: None = unlimited; otherwise > 0.
    """

    def __init__(
        self,
        requests_per_min: float | None = None,
        tokens_per_min: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for key, value in (("requests_per_min", requests_per_min), ("tokens_per_min", tokens_per_min)):
            if value is not None and not value > 0:
                raise ValueError(f"{key} must be > 0 (or unset for no limit), got {value!r}")
        self.requests_per_min = requests_per_min
        self.tokens_per_min = tokens_per_min
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._requests = _Bucket(requests_per_min / 60, 1.0, now) if requests_per_min else None
        self._tokens = _Bucket(tokens_per_min / 60, tokens_per_min / 60, now) if tokens_per_min else None
        self._paused_until = now

    def acquire(self, tokens: int = 0) -> float:
        """Wait until the request fits, take it from the buckets; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = max(0.0, self._paused_until - now)
                for bucket, amount in ((self._requests, 1.0), (self._tokens, float(tokens))):
                    if bucket is not None:
                        bucket.refill(now)
                        wait = max(wait, bucket.wait_s(amount))
                if wait <= 0:
                    if self._requests is not None:
                        self._requests.level -= 1.0
                    if self._tokens is not None:
                        self._tokens.level -= tokens
                    return waited
            self._sleep(wait)
            waited += wait

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once the server said how many tokens a request really used."""
        if self._tokens is not None and actual != estimated:
            with self._lock:
                self._tokens.level -= actual - estimated

    def pause(self, seconds: float) -> None:
        """A 429's Retry-After: no worker sends before ``seconds`` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


_LIMITERS: dict[tuple[str, float | None, float | None], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(
    server: str, requests_per_min: float | None, tokens_per_min: float | None
) -> RateLimiter | None:
    """The process's limiter for ``server`` with these limits (None when neither is set)."""
    if requests_per_min is None and tokens_per_min is None:
        return None
    key = (server, requests_per_min, tokens_per_min)
    with _LIMITERS_LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = RateLimiter(requests_per_min, tokens_per_min)
        return _LIMITERS[key]

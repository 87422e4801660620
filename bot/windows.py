"""Moving windows for the throttle: at most ``limit`` hits of a key in any ``window_s``.

:class:`MemoryWindows` keeps the times of each key's recent hits in this worker's memory,
on the injected clock: a hit is a few deque operations, no I/O and no thread. (The
``limits`` package's memory storage would cost some 50 to 100 µs of CPU per hit here: its
expiry pass hands every live key to a worker thread.) :class:`RedisWindows` is the
``limits`` package's moving window in Redis (one Lua script per hit), shared by every
worker.
"""

from __future__ import annotations

from collections import deque
from functools import cache
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter

from workflows.ports import Clock

# Every this many hits, the keys whose last hit left every window are forgotten.
SWEEP_EVERY = 1000


class Windows(Protocol):
    async def hit(self, key: str, limit: int, window_s: int) -> bool:
        """Count a hit of ``key`` if it had fewer than ``limit`` in the last ``window_s``
        seconds, and say so; a refused hit is not counted."""


class MemoryWindows:
    def __init__(self, clock: Clock, *, sweep_every: int = SWEEP_EVERY) -> None:
        self.clock = clock
        self.sweep_every = sweep_every
        self._hits: dict[str, deque[float]] = {}
        self._longest = 0
        self._until_sweep = sweep_every

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._hits)

    async def hit(self, key: str, limit: int, window_s: int) -> bool:
        now = self.clock.now().timestamp()
        self._longest = max(self._longest, window_s)
        self._sweep_if_due(now)
        hits = self._hits.setdefault(key, deque())
        edge = now - window_s
        while hits and hits[0] <= edge:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True

    def _sweep_if_due(self, now: float) -> None:
        self._until_sweep -= 1
        if self._until_sweep > 0:
            return
        self._until_sweep = self.sweep_every
        edge = now - self._longest
        for key in [key for key, hits in self._hits.items() if not hits or hits[-1] <= edge]:
            del self._hits[key]


@cache
def _item(limit: int, window_s: int) -> RateLimitItem:
    return RateLimitItemPerSecond(limit, window_s)


class RedisWindows:
    """``limiter``: a MovingWindowRateLimiter over the ``limits`` package's RedisStorage."""

    def __init__(self, limiter: MovingWindowRateLimiter) -> None:
        self.limiter = limiter

    async def hit(self, key: str, limit: int, window_s: int) -> bool:
        return await self.limiter.hit(_item(limit, window_s), key)

"""The dispatcher's arithmetic: sliding-window rate limits and backoff with jitter."""

from __future__ import annotations

import random

import pytest

from workflows.outbox import RateLimiter, RetryPolicy, Window

GROUP = -100123
USER = 555


class Timeline:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def limiter(tl: Timeline, **kwargs: float) -> RateLimiter:
    return RateLimiter(now=tl.now, sleep=tl.sleep, **kwargs)


def test_windows_from_rates() -> None:
    assert Window.of_rate(1.0, 1.0) == Window(1, 1.0)
    assert Window.of_rate(30.0, 1.0) == Window(30, 1.0)
    assert Window.of_rate(20.0, 60.0) == Window(20, 60.0)
    assert Window.of_rate(0.5, 1.0) == Window(1, 2.0)


async def test_one_message_per_second_to_a_chat() -> None:
    tl = Timeline()
    rl = limiter(tl)
    times = []
    for _ in range(4):
        await rl.acquire(USER)
        times.append(tl.t)
    assert times == [0.0, 1.0, 2.0, 3.0]
    # another chat is not held back by this one
    assert rl.chat_delay(USER + 1) == 0


async def test_twenty_per_minute_to_a_group() -> None:
    tl = Timeline()
    rl = limiter(tl)
    times = []
    for _ in range(41):
        await rl.acquire(GROUP)
        times.append(tl.t)
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60
    assert times[19] == 19.0  # one a second until the minute's budget is used up
    assert times[20] == 60.0  # then it waits only as long as needed


async def test_thirty_per_second_overall() -> None:
    tl = Timeline()
    rl = limiter(tl)
    times = []
    for chat in range(1, 91):
        await rl.acquire(chat)
        times.append(tl.t)
    for i in range(len(times) - 30):
        assert times[i + 30] - times[i] >= 1
    assert max(times) == pytest.approx(2.0)
    assert sum(tl.slept) == pytest.approx(2.0)


def test_retry_after_blocks_the_chat() -> None:
    tl = Timeline()
    rl = limiter(tl)
    rl.penalize(USER, 7)
    assert rl.blocked([USER, USER + 1]) == {USER}
    tl.t = 6.9
    assert rl.chat_delay(USER) == pytest.approx(0.1)
    tl.t = 7.0
    assert rl.blocked([USER]) == set()


def test_try_acquire_records_only_when_free() -> None:
    tl = Timeline()
    rl = limiter(tl)
    assert rl.try_acquire(USER) == 0
    assert rl.try_acquire(USER) == pytest.approx(1.0)
    tl.t = 1.0
    assert rl.try_acquire(USER) == 0
    rl.forget_idle()
    tl.t = 5.0
    rl.forget_idle()
    assert rl.chat_delay(USER) == 0


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_s=2, cap_s=60)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (10, 60), (30, 60)]:
        delays = [policy.delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter: not all the same

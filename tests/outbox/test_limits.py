"""The dispatcher's arithmetic: sliding-window rate limits and backoff with jitter."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from workflows.outbox.limits import RateLimiter, RetryPolicy, Window

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


# --- several senders at once, in virtual time ---------------------------------------------


class Sim:
    """Virtual time for several tasks: ``sleep`` parks a task until the clock gets there,
    and :meth:`run` moves the clock to the next wake-up once every task is parked (tasks
    due at the same moment wake in the order they went to sleep)."""

    def __init__(self) -> None:
        self.t = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.t + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *coros: Coroutine[Any, Any, None]) -> None:
        tasks = [asyncio.ensure_future(coro) for coro in coros]
        while True:
            for _ in range(50):  # let every task run until it is parked
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                break
            assert self._timers, "deadlock: every task waits and no timer is set"
            at, _, future = heapq.heappop(self._timers)
            self.t = max(self.t, at)
            future.set_result(None)
        for task in tasks:
            task.result()


def sim_limiter(sim: Sim, **kwargs: float) -> RateLimiter:
    return RateLimiter(now=sim.now, sleep=sim.sleep, **kwargs)


def sender(
    sim: Sim, rl: RateLimiter, starts: list[tuple[int, float]]
) -> Callable[[int, float], Awaitable[None]]:
    """``send(chat, after)``: after ``after`` s, a request inside the limiter's slot; the
    moment it started is appended to ``starts``."""

    async def send(chat: int, after: float) -> None:
        await sim.sleep(after)
        async with rl.slot(chat):
            starts.append((chat, sim.t))

    return send


async def test_a_request_counts_from_its_end_and_blocks_its_chat_meanwhile() -> None:
    sim = Sim()
    rl = sim_limiter(sim)
    starts: list[float] = []
    blocked_meanwhile: list[bool] = []

    async def send(after: float, duration: float) -> None:
        await sim.sleep(after)
        async with rl.slot(USER):
            starts.append(sim.t)
            blocked_meanwhile.append(rl.chat_delay(USER) > 0)
            await sim.sleep(duration)

    await sim.run(send(0.0, 0.4), send(0.1, 0.0))
    # the server may have counted the first one as late as 0.4: the second waits until 1.4
    assert starts == [0.0, pytest.approx(1.4)]
    assert blocked_meanwhile == [True, True]


async def test_requests_in_flight_fill_the_overall_window() -> None:
    sim = Sim()
    rl = sim_limiter(sim, global_per_second=2)
    starts: dict[int, float] = {}

    async def send(chat: int, duration: float) -> None:
        async with rl.slot(chat):
            starts[chat] = sim.t
            await sim.sleep(duration)

    await sim.run(send(1, 5.0), send(2, 5.0), send(3, 0.0))
    assert starts[1] == starts[2] == 0.0
    assert starts[3] == pytest.approx(6.0, abs=0.06)  # both ended at 5, then a second


async def test_a_group_goes_first_in_the_overall_window() -> None:
    sim = Sim()
    rl = sim_limiter(sim, global_per_second=1)
    starts: dict[int, float] = {}

    async def send(chat: int, after: float) -> None:
        await sim.sleep(after)
        async with rl.slot(chat):
            starts[chat] = sim.t

    # USER waits for the window before the group does, and still goes after it
    await sim.run(send(USER + 1, 0.0), send(USER, 0.1), send(GROUP, 0.2))
    assert starts == {USER + 1: 0.0, GROUP: 1.0, USER: 2.0}


async def test_a_group_keeps_its_place_while_it_waits_for_its_own_limit() -> None:
    sim = Sim()
    rl = sim_limiter(sim, global_per_second=3)
    starts: list[tuple[int, float]] = []
    send = sender(sim, rl, starts)

    # 0.0: the group; 0.5: two users fill the window. At 1.0 the group's message leaves
    # the window and the group's own limit frees it, at the same instant: the user who
    # has waited for that place since 0.6 (and wakes first) must leave it to the group.
    await sim.run(
        send(GROUP, 0.0),
        send(USER + 1, 0.5),
        send(USER + 2, 0.5),
        send(USER + 3, 0.6),
        send(GROUP, 0.7),
    )
    assert starts[-2:] == [(GROUP, 1.0), (USER + 3, 1.5)]
    times = sorted(t for _, t in starts)
    for i in range(len(times) - 3):
        assert times[i + 3] - times[i] >= 1.0


async def test_a_reservation_put_off_by_a_retry_after_frees_its_place() -> None:
    sim = Sim()
    rl = sim_limiter(sim, global_per_second=3)
    starts: list[tuple[int, float]] = []
    send = sender(sim, rl, starts)

    async def flood_control() -> None:
        await sim.sleep(0.5)
        rl.penalize(GROUP, 10)  # a 429 for the group while its next message waits

    # At 1.0 the user finds the one free place reserved for the group and waits; then the
    # group learns it must wait until 10.5: the user takes the place at once.
    await sim.run(
        send(GROUP, 0.0),
        send(USER + 1, 0.3),
        send(USER + 3, 0.3),
        send(USER + 2, 0.35),
        send(GROUP, 0.4),
        flood_control(),
    )
    assert starts[-2:] == [(USER + 2, 1.0), (GROUP, 10.5)]

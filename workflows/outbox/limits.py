"""How often and how fast the outbox sends: the retry policy and the rate limiter.

Limits (:class:`RateLimiter`): at most N messages in any window of the given length, per
chat (1/s), per group (20/min) and overall (30/s). A request counts from when it is made
until it ends, and then as made at its end (the latest moment the server can have counted
it), so the server never sees more than the limit however the requests travel. A row whose
chat frees within ``hold_s`` waits for it in the limiter and goes at the first allowed
moment; the overall window is taken in turn, groups first.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

# --- backoff --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the ceiling fixed, half random.

    Temporary failures are retried without end (an SMTP outage delays an e-mail, it never
    drops it); ``max_unexpected`` bounds the retries of errors nobody classified (bugs), so
    a broken row cannot hold its recipient's queue forever.
    """

    base_s: float = 2.0
    cap_s: float = 1800.0
    max_unexpected: int = 8

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


# --- rate limits ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``limit`` events in any ``period`` seconds."""

    limit: int
    period: float

    @classmethod
    def of_rate(cls, per_period: float, period: float) -> Window:
        """``per_period`` events per ``period`` seconds, as a whole number in a window."""
        limit = max(1, math.floor(per_period))
        return cls(limit=limit, period=period * limit / per_period)


_TOLERANCE = 1e-6
# How often a wait re-checks a window filled entirely by requests still in flight (their
# end, which frees the window, cannot be known in advance).
_IN_FLIGHT_POLL_S = 0.05


class _Log:
    """The recent events under one window: finished ones (``times``) and ``running`` ones.

    A request in flight counts as present until it ends and then as sent at its end, the
    latest moment the server can have counted it: so however long the request took on the
    way, the server never sees more than the window allows. ``margin`` lengthens the window
    (float rounding, a server clock a hair behind ours).
    """

    __slots__ = ("limit", "period", "running", "times")

    def __init__(self, window: Window, margin: float = 0.0) -> None:
        self.limit = window.limit
        self.period = window.period + margin
        self.times: deque[float] = deque()
        self.running = 0

    def delay(self, now: float) -> float:
        # One expression decides both pruning and waiting, so float rounding cannot let an
        # event count as gone for one and present for the other; waits under a microsecond
        # count as none (a clock in microseconds could not even sleep them).
        period, limit, times = self.period, self.limit, self.times
        while times and times[0] + period - now <= _TOLERANCE:
            times.popleft()
        free = limit - self.running
        if len(times) < free:
            return 0.0
        if free <= 0:
            return _IN_FLIGHT_POLL_S
        return times[len(times) - free] + period - now

    def add(self, now: float) -> None:
        # ``now`` never goes back, so ``times`` stays sorted.
        self.times.append(now)

    def seed(self, at: float) -> None:
        """An event at ``at`` (in the past, possibly before others): kept in order."""
        self.times.insert(bisect.bisect_right(self.times, at), at)

    def present_at(self, moment: float) -> int:
        """How many of the events known now will still count at ``moment`` (a later one)."""
        gone = 0
        for at in self.times:
            if at + self.period - moment > _TOLERANCE:
                break
            gone += 1
        return len(self.times) - gone + self.running

    @property
    def idle(self) -> bool:
        return not self.times and not self.running


class RateLimiter:
    """Sliding-window limits per chat, per group (negative chat ids) and overall.

    ``now`` is a monotonic clock in seconds (injectable, so tests run in virtual time);
    ``sleep`` is what the waits await. A request is made inside :meth:`slot`: it waits
    until every window has room, counts the request as in flight, and counts it as sent
    when the request has ended (see :class:`_Log`). Waiters take the overall window in
    turn, groups first and then in order of arrival (a group is the bottleneck: its
    20 a minute must not queue behind private chats that have the whole second to go).
    Every method is synchronous except the waits, so a check and its record cannot
    interleave with another task.
    """

    def __init__(
        self,
        per_chat_per_second: float = 1.0,
        per_group_per_minute: float = 20.0,
        global_per_second: float = 30.0,
        *,
        margin_s: float = 0.0,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.chat_window = Window.of_rate(per_chat_per_second, 1.0)
        self.group_window = Window.of_rate(per_group_per_minute, 60.0)
        self.margin_s = margin_s
        self.global_log = _Log(Window.of_rate(global_per_second, 1.0), margin_s)
        self.now = now
        self.sleep = sleep
        self._chats: dict[int, _Log] = {}
        self._groups: dict[int, _Log] = {}
        self._penalties: dict[int, float] = {}
        # Waiters for the overall window: (0 for a group, 1 otherwise; arrival), a heap.
        self._queue: list[tuple[int, int]] = []
        self._tickets = itertools.count()
        self._turn: asyncio.Event | None = None
        # Groups waiting for their own limit: ticket -> the moment it frees.
        self._reserved: dict[tuple[int, int], float] = {}

    def _logs(self, chat_id: int, *, create: bool) -> list[_Log]:
        logs = []
        chat = self._chats.get(chat_id)
        if chat is None and create:
            chat = self._chats[chat_id] = _Log(self.chat_window, self.margin_s)
        if chat is not None:
            logs.append(chat)
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None and create:
                group = self._groups[chat_id] = _Log(self.group_window, self.margin_s)
            if group is not None:
                logs.append(group)
        return logs

    @property
    def horizon(self) -> float:
        """How far back a message can still count in a window (seconds)."""
        periods = (self.chat_window.period, self.group_window.period, self.global_log.period)
        return max(periods) + self.margin_s

    def seed(self, chat_id: int, at: float) -> None:
        """Count a message sent to ``chat_id`` at ``at`` (a moment of :attr:`now`'s clock,
        in the past) by someone else: another dispatcher that led before this one."""
        if self.now() - at >= self.horizon:
            return
        for log in (*self._logs(chat_id, create=True), self.global_log):
            log.seed(at)

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until this chat's own limits (and any retry_after) allow a message."""
        now = self.now()
        delay = max((log.delay(now) for log in self._logs(chat_id, create=False)), default=0.0)
        until = self._penalties.get(chat_id)
        if until is not None:
            if until - now <= _TOLERANCE:
                del self._penalties[chat_id]
            else:
                delay = max(delay, until - now)
        return delay

    def global_delay(self) -> float:
        return self.global_log.delay(self.now())

    def try_acquire(self, chat_id: int) -> float:
        """Record a send now and return 0, or return how long to wait (recording nothing)."""
        delay = max(self.chat_delay(chat_id), self.global_delay())
        if delay > 0:
            return delay
        now = self.now()
        for log in self._logs(chat_id, create=True):
            log.add(now)
        self.global_log.add(now)
        return 0.0

    async def acquire(self, chat_id: int) -> None:
        """Wait as long as needed (and no longer), then record a send now."""
        await self._wait(chat_id)
        self.try_acquire(chat_id)

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for room, then make the request inside: it counts as sent when it ends."""
        await self._wait(chat_id)
        logs = [*self._logs(chat_id, create=True), self.global_log]
        for log in logs:
            log.running += 1
        try:
            yield
        finally:
            now = self.now()
            for log in logs:
                log.running -= 1
                log.add(now)

    async def _wait(self, chat_id: int) -> None:
        """Return when every window has room for ``chat_id`` (the caller records at once).

        A group waiting for its own limit holds a reservation in the overall window for the
        moment it frees: the others may take a place only if one is left for it then (its
        previous message leaves the window just then, and someone else must not take that
        place at the same instant and push the group a whole window later).
        """
        ticket = (0 if chat_id < 0 else 1, next(self._tickets))
        queued = False
        try:
            while True:
                own = self.chat_delay(chat_id)
                if own > 0:
                    # Not in the queue meanwhile: a chat's own wait holds no one else back.
                    if queued:
                        self._leave(ticket)
                        queued = False
                    if chat_id < 0:
                        moment = self.now() + own
                        before = self._reserved.get(ticket)
                        self._reserved[ticket] = moment
                        if before is not None and moment > before:
                            self._next()  # later than announced: let the others look again
                    await self.sleep(own)
                    continue
                if not queued:
                    heapq.heappush(self._queue, ticket)
                    queued = True
                if self._queue[0] != ticket:
                    await self._next_turn()
                    continue
                delay = self.global_delay()
                if delay > 0:
                    await self.sleep(delay)
                    continue
                if not self._leaves_room(ticket):
                    await self._next_turn()  # until a reserving group has sent (or gone)
                    continue
                return
        finally:
            if queued:
                self._leave(ticket)
            if self._reserved.pop(ticket, None) is not None:
                self._next()

    def _leaves_room(self, ticket: tuple[int, int]) -> bool:
        """Whether one more message now leaves a place for every reserving group."""
        if not self._reserved or (len(self._reserved) == 1 and ticket in self._reserved):
            return True
        now = self.now()
        log = self.global_log
        moments = sorted(at for other, at in self._reserved.items() if other != ticket)
        for earlier, moment in enumerate(moments):
            if moment - now >= log.period:
                break  # this message will have left the window by then
            # at that moment: what counts then, this message, the groups before, and it
            if log.present_at(moment) + 1 + earlier + 1 > log.limit:
                return False
        return True

    def _leave(self, ticket: tuple[int, int]) -> None:
        head = self._queue[0] == ticket
        self._queue.remove(ticket)
        heapq.heapify(self._queue)
        if head:
            self._next()

    def _next(self) -> None:
        """Wake the waiters to look again (the head of the queue left, or a reservation)."""
        if self._turn is not None:
            self._turn.set()
            self._turn = None

    async def _next_turn(self) -> None:
        if self._turn is None:
            self._turn = asyncio.Event()
        await self._turn.wait()

    def penalize(self, chat_id: int, seconds: float) -> None:
        """Telegram said ``retry_after``: nothing goes to this chat before it passes."""
        until = self.now() + seconds
        self._penalties[chat_id] = max(until, self._penalties.get(chat_id, until))

    def known(self) -> set[int]:
        """The chats with a recent message or a penalty: the only ones that can be blocked."""
        return {*self._chats, *self._groups, *self._penalties}

    def blocked(self, chat_ids: Collection[int], longer_than: float = 0.0) -> set[int]:
        """The chats among ``chat_ids`` that cannot take a message within ``longer_than`` s."""
        return {chat_id for chat_id in chat_ids if self.chat_delay(chat_id) > longer_than}

    def forget_idle(self) -> None:
        """Drop the logs of chats with no message in their window (keeps memory flat)."""
        now = self.now()
        for logs in (self._chats, self._groups):
            idle = [chat_id for chat_id, log in logs.items() if log.delay(now) == 0 and log.idle]
            for chat_id in idle:
                del logs[chat_id]

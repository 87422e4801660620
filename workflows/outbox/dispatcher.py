"""The outbox dispatcher: one lane's loop that claims due rows and hands them to a sender.

Ordering and fairness. The store hands out only the oldest pending row of each recipient
(first in, first out per chat or address; the staff card always goes before its edits), the
rows for groups first, and the dispatcher leaves out the recipients whose chat stays at its
rate limit for more than a moment. So one rate-limited chat (the staff group with its 20
messages a minute) never holds back a subscriber's notice: it is simply not claimed until
its limit allows another message; and the group, the lane's bottleneck, is never kept
waiting behind subscribers' notices that have the whole second to go.

Leases (:mod:`workflows.outbox.leases`): short, renewed by a heartbeat while rows are in
delivery, taken back from the previous incarnation at start. An ``exclusive`` lane (the
Telegram lane) sends only while it leads (:mod:`workflows.outbox.leader`): one dispatcher
at a time for the whole bot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from workflows.outbox.chats import ChatBook
from workflows.outbox.leader import Leadership, catch_up
from workflows.outbox.leases import LEASE, Leases
from workflows.outbox.limits import RateLimiter, RetryPolicy
from workflows.outbox.ports import ClaimScope, OutboxStore, Sender
from workflows.outbox.records import ChatMigrated, Claimed, PermanentFailure, RetryLater

if TYPE_CHECKING:
    from workflows.ports import Clock

logger = logging.getLogger(__name__)

# How often a lane drops the limiter's logs of chats with nothing in their windows.
TIDY_EVERY_S = 10.0


def _short(error: BaseException | str, limit: int = 500) -> str:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return text[:limit]


@dataclass
class OutboxDispatcher:
    """One lane of the outbox: the rows of one ``channel``, delivered by one ``sender``.

    With ``limiter`` set the recipients are Telegram chat ids: they are resolved through
    group migrations and rate-limited. A row whose chat frees within ``hold_s`` seconds is
    claimed and waits for it in the limiter (so it goes out at the first allowed moment,
    not at the next poll); a chat blocked for longer is left out of the claims until then.
    Groups' rows are claimed first (their 20 a minute are the bottleneck of the lane).

    :meth:`run` keeps up to ``concurrency`` rows in delivery and claims up to
    ``batch_size`` more whenever half of them are done, a blocked chat frees, ``wake`` is
    set or the poll interval has passed. ``owner`` names this dispatcher in the leases: the
    same for every run of one worker's lane, and no other live dispatcher's (see
    :class:`~workflows.outbox.leases.Leases`). With ``exclusive`` it claims only while it
    leads the lane (the lead's lease is a third of the rows').
    """

    store: OutboxStore
    sender: Sender
    channel: str
    owner: str
    clock: Clock
    limiter: RateLimiter | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = LEASE
    exclusive: bool = False
    batch_size: int = 20
    concurrency: int = 4
    hold_s: float = 2.0
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    chats: ChatBook = field(init=False, repr=False)
    leases: Leases = field(init=False, repr=False)
    leadership: Leadership | None = field(init=False, repr=False)
    _stopping: asyncio.Event | None = field(default=None, init=False, repr=False)
    # Seconds until a chat left out of the last claim can be claimed again (None: none).
    _next_free: float | None = field(default=None, init=False, repr=False)
    _tidied_at: float = field(default=-math.inf, init=False, repr=False)
    _in_delivery: set[int] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.chats = ChatBook(self.store)
        self.leases = Leases(self.store, self.owner, self.lease)
        self.leadership = None
        if self.exclusive:
            self.leadership = Leadership(
                self.store,
                self.channel,
                self.owner,
                self.leases.incarnation,
                self.lease / 3,
                catch_up=self._catch_up,
            )

    async def _catch_up(self, now: datetime) -> None:
        if self.limiter is not None:
            count = await catch_up(self.store, self.channel, self.chats, self.limiter, now)
            logger.info(
                "outbox lane %s: %d recent sends counted in its limits", self.channel, count
            )

    async def _tend(self) -> bool:
        """The take-back at start, the heartbeat of the rows in delivery, and the lead;
        whether this dispatcher may claim now."""
        now = self.clock.now()
        await self.leases.take_back()
        await self.leases.beat(now, self._in_delivery)
        return self.leadership is None or await self.leadership.hold(now)

    def _excluded(self) -> list[str]:
        """The recipients whose chat cannot take a message within ``hold_s``."""
        self._next_free = None
        if self.limiter is None:
            return []
        if self.limiter.now() - self._tidied_at >= TIDY_EVERY_S:
            self.limiter.forget_idle()
            self._tidied_at = self.limiter.now()
        excluded: list[str] = []
        soonest = math.inf
        for chat_id in self.limiter.known():
            delay = self.limiter.chat_delay(chat_id)
            if delay > self.hold_s:
                excluded.append(str(chat_id))
                excluded.extend(self.chats.aliases(chat_id))
                soonest = min(soonest, delay - self.hold_s)
        if excluded:
            self._next_free = soonest
        return excluded

    async def _claim(self, limit: int) -> list[Claimed]:
        scope = ClaimScope(
            channel=self.channel, exclude=self._excluded(), groups_first=self.limiter is not None
        )
        now = self.clock.now()
        items = await self.store.claim_due(self.leases.incarnation, now, self.lease, limit, scope)
        if items:
            self.leases.claimed(now)
        return items

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were claimed.

        For tests and tools: no heartbeat runs meanwhile, so a batch must end within the
        lease (it does: a row waits at most ``hold_s`` for its chat).
        """
        if not await self._tend():
            return 0
        items = await self._claim(self.batch_size)
        if not items:
            return 0
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(item: Claimed) -> None:
            async with semaphore:
                await self._deliver(item)

        # Every row of the batch is finished (or handed back) before an error goes up.
        outcomes = await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(items)

    async def _deliver(self, item: Claimed) -> None:
        self._in_delivery.add(item.id)
        try:
            await self._deliver_held(item)
        finally:
            self._in_delivery.discard(item.id)

    async def _deliver_held(self, item: Claimed) -> None:
        if self._stopping is not None and self._stopping.is_set():
            # Shutting down: hand the row back at once instead of leaving it leased.
            await self.store.mark_retry(item, None, self.clock.now(), count_attempt=False)
            return
        try:
            chat_id = await self._reserve(item)
            delivered = await self.sender.send(item, chat_id)
        except _Deferred:
            return
        except RetryLater as exc:
            await self._retry(item, exc)
        except ChatMigrated as exc:
            await self._migrated(item, exc)
        except PermanentFailure as exc:
            logger.warning("outbox %s (%s) failed for good: %s", item.id, item.kind, exc.reason)
            await self.store.mark_failed(item, _short(exc.reason), self.clock.now())
        except Exception as exc:
            await self._unexpected(item, exc)
        else:
            if not await self.store.mark_sent(item, delivered, self.clock.now()):
                logger.warning("outbox %s was sent after its lease had passed", item.id)
            else:
                logger.debug("outbox %s (%s) sent", item.id, item.kind)

    async def _reserve(self, item: Claimed) -> int | None:
        """The chat to send to; ``_Deferred`` when that chat is blocked beyond ``hold_s``.

        Only the chat's own limits are checked here. The sender makes each request in
        :meth:`RateLimiter.slot`, which waits for the rest (a short hold for this chat, then
        the overall window) right before the request, after the rendering.
        """
        if self.limiter is None:
            return None
        chat_id = await self.chats.resolve(item.recipient)
        own = self.limiter.chat_delay(chat_id)
        if own > self.hold_s:
            # Do not sit on the row: give it back and let other chats go first.
            next_at = self.clock.now() + timedelta(seconds=own)
            await self.store.mark_retry(item, None, next_at, count_attempt=False)
            raise _Deferred
        return chat_id

    async def _retry(self, item: Claimed, exc: RetryLater) -> None:
        attempt = item.attempts + 1
        if exc.after_s is not None:
            delay = exc.after_s
            chat_id = self.chats.get(item.recipient)
            if exc.flood_control and self.limiter is not None and chat_id is not None:
                self.limiter.penalize(chat_id, exc.after_s)
        else:
            delay = self.policy.delay(attempt, self.rng)
        logger.info(
            "outbox %s (%s) attempt %s: %s; again in %.1fs",
            item.id,
            item.kind,
            attempt,
            exc.reason,
            delay,
        )
        await self.store.mark_retry(
            item, _short(exc.reason), self.clock.now() + timedelta(seconds=delay)
        )

    async def _migrated(self, item: Claimed, exc: ChatMigrated) -> None:
        old = self.chats.current(item.recipient)
        now = self.clock.now()
        logger.warning("chat %s was upgraded to %s; following it", old, exc.new_chat_id)
        await self.store.remember_migration(old, exc.new_chat_id, now)
        self.chats.moved(item.recipient, old, exc.new_chat_id)
        await self.store.mark_retry(item, _short(exc), now, count_attempt=False)

    async def _unexpected(self, item: Claimed, exc: Exception) -> None:
        attempt = item.attempts + 1
        logger.exception("outbox %s (%s) attempt %s crashed", item.id, item.kind, attempt)
        if attempt >= self.policy.max_unexpected:
            await self.store.mark_failed(item, _short(exc), self.clock.now())
            return
        delay = self.policy.delay(attempt, self.rng)
        await self.store.mark_retry(item, _short(exc), self.clock.now() + timedelta(seconds=delay))

    async def run(
        self,
        stop: asyncio.Event,
        wake: asyncio.Event | None = None,
        *,
        poll_interval: float = 0.5,
    ) -> None:
        """Deliver until ``stop`` is set; the rows in delivery are always finished first."""
        wake = wake or asyncio.Event()
        self._stopping = stop
        running: set[asyncio.Task[None]] = set()
        finished = asyncio.Event()

        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            finished.set()
            if not task.cancelled() and task.exception() is not None:
                # The row stays leased (no longer renewed) and goes out again when the
                # lease ends.
                error = task.exception()
                logger.error("outbox lane %s: a delivery crashed", self.channel, exc_info=error)

        failures = 0
        claim = True
        try:
            while not stop.is_set():
                room = self.concurrency - len(running)
                try:
                    leading = await self._tend()
                    items = asked = None
                    if leading and claim and room > 0:
                        wake.clear()
                        asked = min(self.batch_size, room)
                        items = await self._claim(asked)
                    failures = 0
                except Exception:
                    failures += 1
                    logger.exception("outbox lane %s: claiming failed", self.channel)
                    await _wait_any(stop, None, min(30.0, poll_interval * 2**failures))
                    continue
                if not leading:
                    wake.clear()  # another dispatcher sends this lane's rows
                for item in items or ():
                    task = asyncio.create_task(self._deliver(item))
                    running.add(task)
                    task.add_done_callback(done)
                if items is not None and len(items) == asked and len(running) < self.concurrency:
                    continue  # there may be more
                if not running:
                    self.chats.tidy()
                finished.clear()
                # A wake-up is kept for when there is room to act on it.
                waker = wake if len(running) < self.concurrency else None
                timed_out = not await self._pause(stop, waker, poll_interval, finished)
                # Claim again when told to, on time, or when half the rows are done.
                claim = timed_out or wake.is_set() or len(running) <= self.concurrency // 2
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            for task in list(running):
                task.cancel()
            await self._resign()

    async def _resign(self) -> None:
        """Leave the lead at once, so another worker need not wait for its lease to end."""
        if self.leadership is None:
            return
        try:
            await self.leadership.resign(self.clock.now())
        except Exception:
            logger.warning("outbox lane %s: could not resign the lead", self.channel)

    async def _pause(
        self,
        stop: asyncio.Event,
        wake: asyncio.Event | None,
        poll_interval: float,
        finished: asyncio.Event,
    ) -> bool:
        """Wait for an event, the poll interval, or the moment a left-out chat can be
        claimed again (on ``sleep``'s clock, the limiter's); True if an event came."""
        if self._next_free is None:
            return await _wait_any(stop, wake, poll_interval, finished)
        timer = asyncio.ensure_future(self.sleep(max(self._next_free, 0.0)))
        try:
            return await _wait_any(stop, wake, poll_interval, finished, timer=timer)
        finally:
            timer.cancel()


class _Deferred(Exception):
    """The row's chat is at its limit; it was given back without counting an attempt."""


async def _wait_any(
    stop: asyncio.Event,
    wake: asyncio.Event | None,
    timeout: float,
    *more: asyncio.Event,
    timer: asyncio.Future[Any] | None = None,
) -> bool:
    """Sleep up to ``timeout`` seconds, or until an event is set (True) or ``timer`` ends."""
    events = [stop, *more] if wake is None else [stop, wake, *more]
    if any(event.is_set() for event in events):
        return True
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(
            waiters if timer is None else [*waiters, timer],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
    return any(event.is_set() for event in events)

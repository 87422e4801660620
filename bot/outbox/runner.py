"""The runner of the outbox: one lane per channel and the overdue-reminder loop (which also
makes the restoration offers due, ``workflows.restoration``), as background tasks of the bot
process (a slow SMTP server never holds back a Telegram message: each channel has its own
lane).

The runner is handed its lanes: each is a channel's sender (a module of ``bot/outbox``
implementing :class:`~workflows.outbox.ports.Sender`) with how its rows are taken. A new
channel is a new sender module and one more lane where the runner is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.outbox.worker import Worker, process_name
from workflows.outbox.dispatcher import OutboxDispatcher
from workflows.outbox.leases import LEASE
from workflows.outbox.limits import RateLimiter
from workflows.outbox.ports import OutboxStore, Sender
from workflows.outbox.records import Channel
from workflows.ports import Clock
from workflows.restoration import Restorations
from workflows.work_orders import WorkOrders

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Lane:
    """A channel's sender and how its rows are taken.

    ``tag`` names the lane in the leases (``<owner>/<tag>``); with ``limiter`` the
    recipients are Telegram chats, resolved through group upgrades and rate-limited;
    ``exclusive``: one worker at a time sends the lane's rows (its leader).
    """

    channel: Channel
    sender: Sender
    tag: str
    concurrency: int = 4
    batch_size: int = 20
    limiter: RateLimiter | None = None
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class Reminders:
    """The overdue rule: an open work order older than ``deadline`` is reminded of, at most
    once per ``interval``."""

    work_orders: WorkOrders
    deadline: timedelta
    interval: timedelta


@dataclass(frozen=True, slots=True)
class Timing:
    """The outbox's clocks and pace: tests and the benchmark run it in virtual time.

    ``monotonic`` and ``sleep`` are the rate limiter's clock and the waits; ``rng`` the
    backoff's jitter; the lanes look at the table every ``poll_interval`` seconds (and
    when woken), the reminders and the restoration offers every ``reminder_every_s``.
    """

    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    rng: random.Random | None = None
    poll_interval: float = 0.5
    reminder_every_s: float = 300.0


REAL_TIME = Timing()


class OutboxRunner:
    """The outbox lanes and the overdue-reminder loop, as background tasks; with
    ``restorations`` the loop makes the restoration offers due too.

    ``start()`` on startup, ``stop()`` on shutdown (each lane finishes the rows in hand),
    ``wake()`` right after a commit that enqueued something, so it goes out at once instead
    of at the next poll. ``owner`` names this worker in the leases, the same across its
    restarts (see :mod:`bot.outbox.worker`; None: a name of this process alone); ``lease``
    is how long a claimed row stays leased without a heartbeat.
    """

    def __init__(
        self,
        *,
        store: OutboxStore,
        lanes: Sequence[Lane],
        reminders: Reminders,
        clock: Clock,
        owner: str | None = None,
        lease: timedelta = LEASE,
        timing: Timing = REAL_TIME,
        worker: Worker | None = None,
        restorations: Restorations | None = None,
    ) -> None:
        self.store = store
        self.reminders = reminders
        self.restorations = restorations
        self.poll_interval = timing.poll_interval
        self.reminder_every_s = timing.reminder_every_s
        # Held as long as the runner lives: the name stays this process's.
        self.worker = worker
        owner = owner or process_name()
        self.lanes = tuple(
            OutboxDispatcher(
                store=store,
                sender=lane.sender,
                channel=lane.channel,
                owner=f"{owner}/{lane.tag}",
                clock=clock,
                limiter=lane.limiter,
                lease=lease,
                exclusive=lane.exclusive,
                batch_size=lane.batch_size,
                concurrency=lane.concurrency,
                sleep=timing.sleep,
                rng=timing.rng or random.Random(),  # noqa: S311 - retry jitter, not a secret
            )
            for lane in lanes
        )
        self._stop = asyncio.Event()
        self._wakes = {lane.channel: asyncio.Event() for lane in self.lanes}
        self._tasks: list[asyncio.Task[None]] = []

    def lane(self, channel: Channel) -> OutboxDispatcher:
        """The dispatcher of ``channel``'s lane."""
        return next(lane for lane in self.lanes if lane.channel == channel)

    def wake(self) -> None:
        """Look at the outbox now (call it after a commit that enqueued messages)."""
        for event in self._wakes.values():
            event.set()

    async def start(self) -> None:
        if self._tasks:
            return
        self._stop.clear()
        for lane in self.lanes:
            task = asyncio.create_task(
                lane.run(self._stop, self._wakes[lane.channel], poll_interval=self.poll_interval),
                name=f"outbox-{lane.channel}",
            )
            self._tasks.append(task)
        self._tasks.append(asyncio.create_task(self._reminders(), name="outbox-reminders"))
        logger.info("outbox started")

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop after the sends in hand; cancel what is still running after ``timeout``."""
        if not self._tasks:
            return
        self._stop.set()
        self.wake()
        done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error("outbox task %s ended with %r", task.get_name(), task.exception())
        self._tasks.clear()
        logger.info("outbox stopped")

    async def flush(self, *, rounds: int = 100) -> int:
        """Deliver everything due now, in this task (tests, tools); returns rows handled."""
        total = 0
        for _round in range(rounds):
            handled = 0
            for lane in self.lanes:
                handled += await lane.run_once()
            total += handled
            if not handled:
                break
        return total

    async def remind_overdue(self) -> list[int]:
        """Queue the reminders that are due now; returns the application numbers."""
        rule = self.reminders
        numbers = await rule.work_orders.remind_overdue(rule.deadline, rule.interval)
        if numbers:
            logger.info("reminding %d overdue work orders", len(numbers))
            self.wake()
        return numbers

    async def offer_restorations(self) -> list[int]:
        """Queue the restoration offers that are due now; returns the suspensions' numbers."""
        if self.restorations is None:
            return []
        numbers = await self.restorations.offer_due()
        if numbers:
            self.wake()
        return numbers

    async def _reminders(self) -> None:
        while not self._stop.is_set():
            try:
                await self.remind_overdue()
            except Exception:
                logger.exception("overdue reminders failed")
            try:
                await self.offer_restorations()
            except Exception:
                logger.exception("restoration offers failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.reminder_every_s)

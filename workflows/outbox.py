"""The outbox dispatcher: sends what the use cases owe, after their commit.

Every message the system owes (staff card, card edit, reminder, subscriber notice, e-mail)
is a row of the outbox, written in the same transaction as the change that caused it. This
module is the loop that delivers those rows; it is plain Python over two ports:

* :class:`OutboxStore` claims due rows with a *lease* (a row claimed by one dispatcher is
  invisible to the others until the lease ends), and records the outcome. A process that
  dies after claiming leaves the lease to expire, and the row is sent after the restart.
* :class:`Sender` renders and delivers one row of its channel and raises a typed
  :class:`DeliveryError`: :class:`RetryLater` (with the server's ``retry_after`` when there
  is one), :class:`PermanentFailure` (a blocked user, a refused address) or
  :class:`ChatMigrated` (a group upgraded to a supergroup).

Ordering and fairness. The store hands out only the oldest pending row of each recipient
(first in, first out per chat or address; the staff card always goes before its edits), the
rows for groups first, and the dispatcher leaves out the recipients whose chat stays at its
rate limit for more than a moment. So one rate-limited chat (the staff group with its 20
messages a minute) never holds back a subscriber's notice: it is simply not claimed until
its limit allows another message; and the group, the lane's bottleneck, is never kept
waiting behind subscribers' notices that have the whole second to go.

Limits (:class:`RateLimiter`): at most N messages in any window of the given length, per
chat (1/s), per group (20/min) and overall (30/s). A request counts from when it is made
until it ends, and then as made at its end (the latest moment the server can have counted
it), so the server never sees more than the limit however the requests travel. A row whose
chat frees within ``hold_s`` waits for it in the limiter and goes at the first allowed
moment; the overall window is taken in turn, groups first.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from workflows.ports import Clock

logger = logging.getLogger(__name__)

TELEGRAM = "telegram"
EMAIL = "email"


# --- the records --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row leased to one dispatcher; ``lease`` is the claim's unique token."""

    id: int
    kind: str
    channel: str
    recipient: str
    dedupe_key: str
    application_number: int | None
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime
    lease: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a successful send produced; ``card`` marks the application's staff card."""

    chat_id: int | None = None
    message_id: int | None = None
    card: bool = False

    def as_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.chat_id is not None:
            result["chat_id"] = self.chat_id
        if self.message_id is not None:
            result["message_id"] = self.message_id
        if self.card:
            result["card"] = True
        return result


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where an application's staff card was posted."""

    chat_id: int
    message_id: int


# --- the errors a sender raises -------------------------------------------------------------


class DeliveryError(Exception):
    """A send did not happen; the subclass says what to do next."""


class RetryLater(DeliveryError):
    """Temporary: try again after ``after_s`` seconds (None: after the usual backoff).

    ``flood_control``: the server asked to wait (Telegram's 429 ``retry_after``), so nothing
    else goes to that chat before the time is up either.
    """

    def __init__(
        self, reason: str, after_s: float | None = None, *, flood_control: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_s = after_s
        self.flood_control = flood_control


class PermanentFailure(DeliveryError):
    """A retry cannot help (blocked by the user, refused address, malformed message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatMigrated(DeliveryError):
    """The group became a supergroup with ``new_chat_id``; send there from now on."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


# --- the ports ------------------------------------------------------------------------------


class OutboxStore(Protocol):
    async def claim_due(
        self,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        *,
        channel: str | None = None,
        exclude: Collection[str] = (),
        groups_first: bool = False,
    ) -> list[Claimed]:
        """Lease up to ``limit`` due rows, each the oldest pending row of its recipient.

        Oldest first; with ``groups_first`` the rows for Telegram groups (negative chat
        ids) before all others. ``exclude``: recipients to leave alone this time.
        """

    async def mark_sent(self, item: Claimed, delivered: Delivered, now: datetime) -> bool:
        """Record the send (and the card's message id); False if the lease was lost."""

    async def mark_retry(
        self, item: Claimed, error: str | None, next_at: datetime, *, count_attempt: bool = True
    ) -> None:
        """Give the row back, due again at ``next_at``."""

    async def mark_failed(self, item: Claimed, error: str, now: datetime) -> None:
        """Give up on the row and keep the reason."""

    async def resolve_chat(self, chat_id: int) -> int:
        """The chat's current id (following group -> supergroup migrations)."""

    async def remember_migration(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """Keep the new id of an upgraded group for every later message."""

    async def card_of(self, application_number: int) -> CardRef | None:
        """Where the application's staff card is, if it was posted."""


class Sender(Protocol):
    """Delivers the rows of one channel.

    A sender whose lane has a :class:`RateLimiter` awaits its ``acquire(chat_id)`` right
    before each request, so every request is counted at the moment it is made.
    """

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        """Render and deliver one row; ``chat_id`` is the resolved chat for Telegram rows."""


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
# How often a lane drops the limiter's logs of chats with nothing in their windows.
TIDY_EVERY_S = 10.0
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


# --- the dispatcher -------------------------------------------------------------------------


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
    set or the poll interval has passed. ``owner`` names this dispatcher in the leases
    (unique per process and lane).
    """

    store: OutboxStore
    sender: Sender
    channel: str
    owner: str
    clock: Clock
    limiter: RateLimiter | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(minutes=5)
    batch_size: int = 20
    concurrency: int = 4
    hold_s: float = 2.0
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    _chats: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    # The recipients whose chat has another id now (upgraded groups), by that id.
    _aliases: dict[int, set[str]] = field(default_factory=dict, init=False, repr=False)
    _stopping: asyncio.Event | None = field(default=None, init=False, repr=False)
    # Seconds until a chat left out of the last claim can be claimed again (None: none).
    _next_free: float | None = field(default=None, init=False, repr=False)
    _tidied_at: float = field(default=-math.inf, init=False, repr=False)

    async def _chat_of(self, recipient: str) -> int:
        chat_id = self._chats.get(recipient)
        if chat_id is None:
            chat_id = int(recipient)
            if chat_id < 0:  # only groups migrate (to supergroups); a user's chat never does
                chat_id = await self.store.resolve_chat(chat_id)
            self._remember(recipient, chat_id)
        return chat_id

    def _remember(self, recipient: str, chat_id: int) -> None:
        old = self._chats.get(recipient)
        if old is not None and old in self._aliases:
            self._aliases[old].discard(recipient)
        self._chats[recipient] = chat_id
        if str(chat_id) != recipient:
            self._aliases.setdefault(chat_id, set()).add(recipient)

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
                excluded.extend(self._aliases.get(chat_id, ()))
                soonest = min(soonest, delay - self.hold_s)
        if excluded:
            self._next_free = soonest
        return excluded

    async def _claim(self, limit: int) -> list[Claimed]:
        return await self.store.claim_due(
            self.owner,
            self.clock.now(),
            self.lease,
            limit,
            channel=self.channel,
            exclude=self._excluded(),
            groups_first=self.limiter is not None,
        )

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were claimed."""
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
        chat_id = await self._chat_of(item.recipient)
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
            chat_id = self._chats.get(item.recipient)
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
        old = self._chats.get(item.recipient, int(item.recipient))
        now = self.clock.now()
        logger.warning("chat %s was upgraded to %s; following it", old, exc.new_chat_id)
        await self.store.remember_migration(old, exc.new_chat_id, now)
        for recipient, chat in list(self._chats.items()):
            if chat == old:
                self._remember(recipient, exc.new_chat_id)
        self._remember(item.recipient, exc.new_chat_id)
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
                # The row stays leased and goes out again when the lease ends.
                error = task.exception()
                logger.error("outbox lane %s: a delivery crashed", self.channel, exc_info=error)

        failures = 0
        claim = True
        try:
            while not stop.is_set():
                room = self.concurrency - len(running)
                if claim and room > 0:
                    wake.clear()
                    asked = min(self.batch_size, room)
                    try:
                        items = await self._claim(asked)
                        failures = 0
                    except Exception:
                        failures += 1
                        logger.exception("outbox lane %s: claiming failed", self.channel)
                        await _wait_any(stop, None, min(30.0, poll_interval * 2**failures))
                        continue
                    for item in items:
                        task = asyncio.create_task(self._deliver(item))
                        running.add(task)
                        task.add_done_callback(done)
                    if len(items) == asked and len(running) < self.concurrency:
                        continue  # there may be more
                if not running and len(self._chats) > 10_000:
                    self._chats.clear()  # resolved again from the store when needed
                    self._aliases.clear()
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

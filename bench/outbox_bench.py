"""The outbox against a Bot API that enforces Telegram's limits.

Workload: ``--messages`` pending rows, ``--group-messages`` of them staff cards for the staff
group (spread evenly over the queue) and the rest subscriber notices round-robin over
``--chats`` private chats, with the applications they are about (bulk-inserted rows of the
product's tables, exactly what ``OutboxQueue.enqueue`` writes). They are sent by the
product's ``OutboxRunner`` as ``bot.app.build_outbox_runner`` wires it: the real ``OutboxDispatcher``, ``RateLimiter``,
``SqlOutboxStore``, ``TelegramSender`` and renderers, with the product's settings (its
``OUTBOX_*`` limits), through :class:`bench.fakes.LimitedTelegram`, which holds Telegram's
limits (1 message/s per chat, 20/min per group, 30/s overall, as sliding windows over the
messages it accepted) and answers 429 with ``retry_after`` past them.

The yardstick: :func:`best_schedule` sends the same messages greedily at the earliest moment
the server's windows allow, what a perfect sender would do. ``of_best`` is our rate over
its rate: its time for the whole queue over ours, or, when ``--window`` stops the run
first, what we sent over what it would have sent by then.

Time: the whole queue needs more than a minute at Telegram's limits. ``--window`` stops
earlier; ``--time-scale K`` instead runs everyone's clock (the runner's clock, its limiter's
monotonic clock and sleeps, its poll interval, the fake server's windows) K times faster.
Processing time (SQL, rendering) is not scaled, so at K > 1 the outbox needs K times the
CPU and its latencies weigh K times more: K > 1 measures capacity, not pacing.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import logging
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlalchemy import insert

from bench.fakes import LimitedTelegram, Limits
from bench.product import STAFF_CHAT_ID, bench_settings
from storage.models import ApplicationRow, OutboxRow
from storage.outbox import SqlOutboxStore
from storage.repositories import outbox_values
from workflows.journey import staff_card_item
from workflows.models import ApplicationKind, ApplicationStatus
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import OutboxItem

log = logging.getLogger(__name__)
FIRST_CHAT = 20_000_000


class VirtualTime:
    """Time running ``scale`` times faster than the wall clock, from now on."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._t0 = time.monotonic()
        self._epoch = datetime.now(UTC)

    def monotonic(self) -> float:
        return (time.monotonic() - self._t0) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.scale)

    def now(self) -> datetime:
        return self._epoch + timedelta(seconds=self.monotonic())


@dataclass(frozen=True, slots=True)
class Workload:
    messages: int
    chats: int
    group_messages: int

    def recipients(self) -> list[int]:
        """The chat of every message, in queue order (group rows spread evenly)."""
        every = max(1, self.messages // max(1, self.group_messages))
        order: list[int] = []
        private = 0
        group_left = self.group_messages
        for position in range(self.messages):
            if group_left and position % every == every // 2:
                order.append(STAFF_CHAT_ID)
                group_left -= 1
            else:
                order.append(FIRST_CHAT + private % self.chats)
                private += 1
        return order


def best_schedule(recipients: list[int], limits: Limits) -> list[float]:
    """When a perfect sender would send each message: the earliest moment allowed.

    A greedy list schedule over the fake server's windows: each recipient's messages in
    queue order, the earliest possible moment first, the group's rows first on a tie (the
    group is the bottleneck). Returns the send moments in order (seconds from the start).
    """
    queues: dict[int, deque[int]] = {}
    for index, chat in enumerate(recipients):
        queues.setdefault(chat, deque()).append(index)
    chat_window = _window(limits.per_chat_per_second, 1.0)
    group_window = _window(limits.per_group_per_minute, 60.0)
    global_limit, global_period = _window(limits.global_per_second, 1.0)
    sent: dict[int, list[float]] = {chat: [] for chat in queues}
    sent_global: list[float] = []

    def allowed(log: list[float], limit: int, period: float, at: float) -> float:
        return max(at, log[-limit] + period) if len(log) >= limit else at

    def own(chat: int, at: float) -> float:
        at = allowed(sent[chat], *chat_window, at)
        if chat < 0:
            at = allowed(sent[chat], *group_window, at)
        return at

    heap = [(0.0, 0 if chat < 0 else 1, chat) for chat in queues]
    heapq.heapify(heap)
    now = 0.0
    moments: list[float] = []
    while heap:
        ready, priority, chat = heapq.heappop(heap)
        at = own(chat, allowed(sent_global, global_limit, global_period, max(ready, now)))
        if at > ready:
            heapq.heappush(heap, (at, priority, chat))
            continue
        queues[chat].popleft()
        sent[chat].append(at)
        sent_global.append(at)
        now = at
        moments.append(at)
        if queues[chat]:
            heapq.heappush(heap, (own(chat, at), priority, chat))
    return moments


def _window(per_period: float, period: float) -> tuple[int, float]:
    limit = max(1, int(per_period))
    return limit, period * limit / per_period


async def _enqueue(engine: Any, workload: Workload, now: datetime) -> int:
    """The applications the messages are about, then the pending outbox rows.

    A bulk insert of the rows ``OutboxQueue.enqueue`` and ``Applications.add`` write (the
    product's path takes ~4,500 single statements here: setup time, not the subject).
    """
    recipients = workload.recipients()
    apps = []
    for i in range(workload.chats + workload.group_messages):
        chat = FIRST_CHAT + i % workload.chats
        apps.append(
            {
                "number": i + 1,
                "kind": ApplicationKind.SUSPEND.value,
                "status": ApplicationStatus.REGISTERED.value,
                "fin": "5BENCH0",
                "subscriber_code": f"{7_000_000_000 + i}",
                "open_lock": f"{7_000_000_000 + i}",
                "address": "Bakı ş., Nəsimi r., Azadlıq pr. 12",
                "reason_code": "absence",
                "phone": "+994501234567",
                "email": f"user{i}@example.com",
                "description": "Leaving for the summer.",
                "notes": None,
                "locale": "az",
                "telegram_user_id": chat,
                "chat_id": chat,
                "created_at": now,
                "updated_at": now,
            }
        )
    rows = []
    seen: dict[int, int] = {}
    cards = 0
    for position, chat in enumerate(recipients):
        if chat == STAFF_CHAT_ID:
            number = workload.chats + cards + 1
            cards += 1
            item = staff_card_item(number, STAFF_CHAT_ID)
        else:
            k = seen[chat] = seen.get(chat, -1) + 1
            item = OutboxItem(
                kind=OutboxKind.NOTICE,
                channel=Channel.TELEGRAM,
                recipient=str(chat),
                dedupe_key=f"bench:{chat}:{k}",
                application_number=chat - FIRST_CHAT + 1,
                payload={"event": "taken"},
            )
        at = now - timedelta(seconds=10) + timedelta(microseconds=position)
        rows.append(outbox_values(item, at))
    async with engine.begin() as conn:
        await conn.execute(insert(ApplicationRow), apps)
        await conn.execute(insert(OutboxRow), rows)
    return len(rows)


async def run_outbox(
    database_url: str,
    workload: Workload,
    time_scale: float,
    mail_dir: Path,
    window_s: float = 0.0,
) -> dict[str, Any]:
    """Send the workload; stop when all went out, or after ``window_s`` real seconds."""
    from bot.app import build_i18n, build_outbox_runner, build_services
    from bot.outbox.runner import Timing

    settings = bench_settings(database_url, mail_dir)
    services = build_services(settings)
    total = await _enqueue(services.engine, workload, services.clock.now())
    limits = Limits()  # Telegram's, whatever the product is configured to aim at
    best = best_schedule(workload.recipients(), limits)
    vt = VirtualTime(time_scale)
    session = LimitedTelegram(limits, now=vt.monotonic)
    bot = Bot("42:BENCH", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    done = asyncio.Event()
    session.on_accept = lambda accepted: done.set() if accepted >= total else None
    runner = build_outbox_runner(
        settings,
        services,
        bot,
        build_i18n(settings),
        clock=vt,
        timing=Timing(
            sleep=vt.sleep,
            monotonic=vt.monotonic,
            poll_interval=0.5 / time_scale,
            reminder_every_s=3600.0,
        ),
    )
    # Without a window: give up at three times what a perfect sender needs.
    limit_s = window_s or max(10.0, 3 * best[-1] / time_scale)
    cpu0 = time.process_time()
    started = vt.monotonic()
    await runner.start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=limit_s)
    finished = done.is_set()
    ended = session.last_at if finished and session.last_at is not None else vt.monotonic()
    cpu = time.process_time() - cpu0
    await runner.stop()
    counts = await SqlOutboxStore(services.engine).counts()
    await services.close()
    elapsed = max(ended - started, 1e-9)
    best_in_time = bisect.bisect_right(best, elapsed)
    return {
        "scenario": "outbox",
        "messages": total,
        "chats": workload.chats,
        "group_messages": workload.group_messages,
        "time_scale": time_scale,
        "window_s": window_s,
        "configured": {
            "per_chat_per_second": settings.outbox_per_chat_per_second,
            "per_group_per_minute": settings.outbox_per_group_per_minute,
            "global_per_second": settings.outbox_global_per_second,
        },
        "limits": {
            "per_chat_per_second": limits.per_chat_per_second,
            "per_group_per_minute": limits.per_group_per_minute,
            "global_per_second": limits.global_per_second,
        },
        "finished": finished,
        "sent": session.accepted,
        "group_sent": session.accepted_by_chat.get(STAFF_CHAT_ID, 0),
        "db_counts": counts,
        "elapsed_s": elapsed,
        "wall_s": elapsed / time_scale,
        "best_s": best[-1],
        "best_sent_in_elapsed": best_in_time,
        "messages_per_s": session.accepted / elapsed,
        "best_messages_per_s": total / best[-1] if finished else best_in_time / elapsed,
        # Finished: the perfect sender's time over ours. Cut by the window: what we sent
        # over what it would have sent by then. Either way, our rate over its rate.
        "of_best": best[-1] / elapsed if finished else session.accepted / max(1, best_in_time),
        "of_global_limit": session.accepted / elapsed / limits.global_per_second,
        "sent_per_10s": _per_bucket(session.accepted_at, started, 10.0),
        "group_sent_at_s": [round(t - started, 2) for t in session.group_accepted_at],
        "retry_after_429": session.refused,
        "refused_by": session.refused_by,
        "cpu_us_per_message": cpu / max(1, session.accepted) * 1e6,
    }


def _per_bucket(moments: list[float], start: float, width: float) -> list[int]:
    """How many of ``moments`` fall in each ``width``-second bucket after ``start``."""
    counts: list[int] = []
    for moment in moments:
        bucket = int((moment - start) // width)
        counts.extend([0] * (bucket + 1 - len(counts)))
        counts[bucket] += 1
    return counts


async def outbox(args: Any) -> dict[str, Any]:
    if not args.database_url:
        raise SystemExit("the outbox scenario needs --database-url (a migrated database)")
    workload = Workload(args.messages, args.chats, args.group_messages)
    mail_dir = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    return await run_outbox(args.database_url, workload, args.time_scale, mail_dir, args.window)

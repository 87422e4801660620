"""Telegram's limits are the bot's, not the process's (issue 15, item 4), in virtual time.

Two workers (two outbox runners as the product wires them, each on its own engine of one
SQLite file, as two processes) send to one Bot API that enforces Telegram's limits and
answers 429 past them (:class:`bench.fakes.LimitedTelegram`, the outbox benchmark's).
One worker at a time leads the Telegram lane: together they never exceed the group's
20 a minute and still use it fully; when the leader dies the other takes over within the
lead's lease and goes on where the group's window was. A 429's ``retry_after`` keeps every
dispatcher, and a restarted one, from that chat for as long.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.fakes import LimitedTelegram, Limits
from bench.outbox_bench import best_schedule
from bot.app import build_services
from bot.outbox.runner import OutboxRunner
from storage.database import create_engine
from tests.outbox.harness import Harness
from tests.outbox.test_delivery import EPS, cards_posted
from tests.outbox.test_two_dispatchers import count_sends
from workflows.outbox.leases import LEASE
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import OutboxItem

CARDS = 60
LEAD = LEASE / 3  # the lead's lease


@pytest.fixture
async def second_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


def limited_bot(h: Harness) -> tuple[Bot, LimitedTelegram]:
    session = LimitedTelegram(Limits(), now=h.clock.monotonic)
    bot = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    return bot, session


def workers(h: Harness, engine: AsyncEngine, bot: Bot | None = None) -> list[OutboxRunner]:
    """Worker w1 on the harness's engine, w2 on ``engine``: two processes' outboxes."""
    services = build_services(h.settings, engine=engine, clock=h.clock, mailer=h.services.mailer)
    return [h.new_runner("w1", bot=bot), h.new_runner("w2", bot=bot, services=services)]


@dataclass
class Queue:
    """Two workers sending ``CARDS`` staff cards to one rate-limited Bot API."""

    session: LimitedTelegram
    workers: list[OutboxRunner]
    counts: list[Counter[str]]  # what each one sent
    numbers: list[int]


async def two_workers_and_cards(h: Harness, engine: AsyncEngine) -> Queue:
    bot, session = limited_bot(h)
    pair = workers(h, engine, bot)
    counts = [count_sends(runner) for runner in pair]
    numbers = [await h.register(chat_id=6000 + i) for i in range(CARDS)]
    return Queue(session, pair, counts, numbers)


async def drive(h: Harness, alive: list[OutboxRunner], *, stop_when: object = None) -> None:
    """Let the ``alive`` workers send (each its own flushes, at once) until nothing is
    pending, or ``stop_when()`` is true; the virtual clock jumps to the next moment."""
    for _ in range(5000):
        await asyncio.gather(*(runner.flush() for runner in alive))
        if callable(stop_when) and stop_when():
            return
        due = await h.next_due(*alive)
        if due is None:
            return
        h.clock.advance(max(due - h.clock.now(), timedelta(milliseconds=10)))
    raise AssertionError("the outbox did not drain")


def group_use(session: LimitedTelegram, cards: int) -> float:
    """Our pace to the group over a perfect sender's (the group's limit used to the full)."""
    times = session.group_accepted_at
    best = best_schedule([-1] * cards, Limits())
    return best[-1] / (times[-1] - times[0])


async def test_two_workers_hold_the_group_limit_together_and_use_it(
    h: Harness, second_engine: AsyncEngine
) -> None:
    queue = await two_workers_and_cards(h, second_engine)
    session, counts = queue.session, queue.counts

    await drive(h, queue.workers)

    assert session.refused == 0, session.refused_by
    assert session.accepted_by_chat[h.staff_chat_id] == CARDS
    use = group_use(session, CARDS)
    print(f"\ntwo workers, {CARDS} cards: {session.refused} 429s, group limit used {use:.1%}")
    assert use >= 0.9
    # One of them sent every card, the other none: it never led meanwhile.
    sent = sorted(sum(c.values()) for c in counts)
    assert sent == [0, CARDS], counts
    assert sorted(int(k.split(":")[1]) for c in counts for k in c) == queue.numbers


async def test_when_the_leader_dies_the_other_takes_over_within_the_lead(
    h: Harness, second_engine: AsyncEngine
) -> None:
    queue = await two_workers_and_cards(h, second_engine)
    session, pair, counts = queue.session, queue.workers, queue.counts

    await drive(h, pair, stop_when=lambda: sum(c.total() for c in counts) >= 25)
    leader, other = pair if counts[0].total() else pair[::-1]
    died_at = h.clock.now()  # the leader is killed (it neither sends nor resigns again)
    took_over: list[float] = []

    def watch() -> bool:
        lane = other.lane(Channel.TELEGRAM)
        if not took_over and lane.leadership and lane.leadership.leads(h.clock.now()):
            took_over.append((h.clock.now() - died_at).total_seconds())
        return False

    await drive(h, [other], stop_when=watch)

    assert session.refused == 0, session.refused_by  # the new leader knew the group's window
    assert cards_posted_by(session) == CARDS
    assert took_over and took_over[0] <= LEAD.total_seconds()
    assert sum(c.total() for c in counts) == CARDS and leader is not other


def cards_posted_by(session: LimitedTelegram) -> int:
    return sum(count for chat, count in session.accepted_by_chat.items() if chat < 0)


async def test_a_retry_after_keeps_every_dispatcher_and_a_restarted_one_from_the_chat(
    h: Harness, second_engine: AsyncEngine
) -> None:
    group = h.staff_chat_id
    numbers = [await h.register(chat_id=6100 + i) for i in range(3)]
    h.tg.fail("429", chat_id=group, retry_after=7)
    await h.runner.flush()  # worker "test" leads: the first card is answered 429
    refused = [r for r in h.tg.log if r.chat_id == group and "Too Many" in r.error]
    assert len(refused) == 1
    answered_at = refused[0].at

    # "test" is killed and starts again at once (its lead and its limiter's penalty are
    # gone); another worker sends too, without the lead (as in a takeover's overlap).
    restarted = h.new_runner("test")
    _w1, other = workers(h, second_engine)
    other.lane(Channel.TELEGRAM).leadership = None
    async with h.services.transactions() as tx:  # the others go on meanwhile
        await tx.outbox.enqueue(
            OutboxItem(
                kind=OutboxKind.NOTICE,
                channel=Channel.TELEGRAM,
                recipient="6200",
                dedupe_key="meanwhile",
                application_number=numbers[0],
                payload={"event": "taken"},
            ),
            h.clock.now(),
        )
        await tx.commit()
    while h.clock.monotonic() < answered_at + 7 - 0.25:
        await asyncio.gather(restarted.flush(), other.flush())
        h.clock.advance(timedelta(seconds=0.25))
    assert [r for r in h.tg.log if r.chat_id == group and r.at > answered_at] == []
    assert len(h.tg.sent(6200)) == 1

    h.runner = restarted
    await h.deliver()
    later = [r.at for r in h.tg.log if r.chat_id == group and r.at > answered_at]
    assert min(later) >= answered_at + 7 - EPS
    assert cards_posted(h) == dict.fromkeys(numbers, 1)

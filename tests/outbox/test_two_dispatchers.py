"""Two dispatchers (as in two processes) on one database send each message exactly once:
on a SQLite file (the write lock) and on PostgreSQL (``FOR UPDATE SKIP LOCKED``, run when
TEST_DATABASE_URL is set).

What is raced here is the claim: both Telegram lanes claim, as every e-mail lane does and
as two Telegram leaders would in the moment one takes over from a stalled one (one worker
at a time leads the Telegram lane: see test_shared_limits.py)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_services
from bot.config import Settings
from bot.outbox.runner import OutboxRunner
from storage.database import create_engine
from tests.outbox.harness import STAFF_A, Harness, RecordingMailer, make_harness
from workflows.models import StaffMember
from workflows.outbox.records import OutboxStatus

EPS = 1e-6
FAST = {
    "outbox_per_chat_per_second": 1000.0,
    "outbox_per_group_per_minute": 1_000_000.0,
    "outbox_global_per_second": 1_000_000.0,
}


def count_sends(runner: OutboxRunner) -> Counter[str]:
    """Wrap the runner's senders to count what each one delivered."""
    counts: Counter[str] = Counter()
    for lane in runner.lanes:
        original = lane.sender.send

        async def send(item: Any, chat_id: Any, _original: Any = original) -> Any:
            result = await _original(item, chat_id)
            counts[item.dedupe_key] += 1
            return result

        lane.sender.send = send  # type: ignore[method-assign]
    return counts


def _second_runner(h: Harness, engine: AsyncEngine) -> OutboxRunner:
    """Another dispatcher (as in another process) on the same database and timeline."""
    return h.new_runner(
        "second",
        services=build_services(
            h.settings, engine=engine, clock=h.clock, mailer=h.services.mailer
        ),
    )


async def _race(h: Harness, second_engine: AsyncEngine) -> None:
    staff = StaffMember(STAFF_A.id, "Elvin")
    numbers = [await h.register(chat_id=8000 + i) for i in range(12)]
    first = h.runner
    second = _second_runner(h, second_engine)
    for runner in (first, second):
        for lane in runner.lanes:
            lane.batch_size = 3
            lane.leadership = None  # both claim: the race is the store's
    counts = [count_sends(first), count_sends(second)]

    async def both() -> None:
        for _ in range(500):
            await asyncio.gather(first.flush(), second.flush())
            due = await h.next_due()
            if due is None:
                return
            h.clock.advance(max(due - h.clock.now(), timedelta(milliseconds=10)))
        raise AssertionError("the outbox did not drain")

    await both()
    for number in numbers[:8]:
        await h.services.work_orders.take(number, staff)
    for number in numbers[:4]:
        await h.services.work_orders.complete(number, staff, "Bağlandı.")
    await both()

    rows = await h.rows()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    total = counts[0] + counts[1]
    assert set(total) == {r.dedupe_key for r in rows}
    assert max(total.values()) == 1, [k for k, v in total.items() if v > 1]
    assert sum(counts[0].values()) > 0 and sum(counts[1].values()) > 0  # both took part

    cards = Counter(
        int(m.group(1))
        for r in h.tg.sent(h.staff_chat_id)
        if (m := re.search(r"Work order No\. (\d+)</b>", r.text))
    )
    assert cards == dict.fromkeys(numbers, 1)
    for i in range(12):
        expected = 3 if i < 4 else 1 if i < 8 else 0  # taken, then done and its question
        assert len(h.tg.sent(8000 + i)) == expected
    assert sorted(m.subject for m in h.services.mailer.sent) == sorted(
        f"Заявка № {n} выполнена" for n in numbers[:4]
    )


async def test_two_dispatchers_on_one_sqlite_file(
    settings: Settings, engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    h = await make_harness(settings, engine, tmp_path, mailer=RecordingMailer(), **FAST)
    second = create_engine(db_url)
    try:
        await _race(h, second)
    finally:
        await second.dispose()


@pytest.mark.postgres
async def test_two_dispatchers_on_postgresql(
    settings: Settings, pg_engine: AsyncEngine, tmp_path: Path
) -> None:
    h = await make_harness(settings, pg_engine, tmp_path, mailer=RecordingMailer(), **FAST)
    second = create_engine(pg_engine.url.render_as_string(hide_password=False))
    try:
        await _race(h, second)
    finally:
        await second.dispose()


async def test_a_retry_after_keeps_the_other_dispatcher_from_the_chat(
    settings: Settings, engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    """A 429 with retry_after to one dispatcher: the other one (another process, which
    never saw the 429) sends nothing to that chat until retry_after has passed."""
    h = await make_harness(settings, engine, tmp_path, mailer=RecordingMailer())
    staff = StaffMember(STAFF_A.id, "Elvin")
    chat = 9001
    number = await h.register(chat_id=chat)
    await h.deliver()  # the card
    await h.services.work_orders.take(number, staff)
    await h.services.work_orders.complete(number, staff, "Bağlandı.")  # two notices owed
    h.tg.fail("429", chat_id=chat, retry_after=30)

    await h.runner.flush()
    [refused] = [r for r in h.tg.log if r.chat_id == chat]
    assert "Too Many Requests" in refused.error
    free_at = refused.at + 30
    second_engine = create_engine(db_url)
    try:
        second = _second_runner(h, second_engine)
        while not h.tg.ok(chat_id=chat):  # the second one polls every virtual second
            assert h.clock.monotonic() < free_at + 5, "the notice never went out"
            h.clock.advance(timedelta(seconds=1))
            await second.flush()
        first_sent = h.tg.ok(chat_id=chat)[0]
        assert first_sent.at >= free_at - EPS  # nothing to the chat before retry_after ended
        assert "принята в работу" in first_sent.text  # and in order: "taken" first
    finally:
        await second_engine.dispose()

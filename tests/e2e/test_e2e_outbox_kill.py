"""kill -9 of a real ``python bot.py run`` while its outbox sends (issue 15, item 3).

A real bot process polls a sandbox that runs in this process, on a SQLite file. Staff cards
are enqueued with the product's own use case (``journey.submit`` through ``build_services``:
the application and its card in one transaction), and the bot sends them to the staff
group at two a second (the sandbox does not rate-limit; OUTBOX_PER_GROUP_PER_MINUTE=120).
While the bot holds a card's lease (claimed, waiting for the group's limit or on its way to
Telegram), the process is killed with SIGKILL and started again under the same worker name
(the default, ``<host>:main``).

OUTBOX_LEASE_S is ten minutes here, far longer than the test runs: only the take-back lets
the new process send the row the killed one had leased, so "the next row goes out within
the lease" is checked on what the table recorded, not on a clock: every row leased at a
kill was sent before that lease would have ended. Nothing is lost (every card posted), and
nothing is sent twice but in the one documented window: a card Telegram had accepted
before the kill while its row was not yet marked sent. The cards arrive in queue order.

``E2E_OUTBOX_KILLS`` (default 1) sets how many kills catch a leased row; the test prints
how long the cards took to resume (from the restart's start, and from the kill).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import statistics
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_services
from bot.config import Settings
from sandbox.server import SandboxServer
from storage.database import create_engine
from tests.e2e.harness import (
    START_TIMEOUT,
    RestartingBot,
    apoll_until,
    card_numbers,
    polling_bot,
)
from tests.support import seed_subscribers, subscriber_row
from workflows.models import Draft

KILLS = int(os.environ.get("E2E_OUTBOX_KILLS", "1"))
CARDS_BEFORE_KILL = 5  # sent by each run before it is killed
CARDS = 12 + 12 * KILLS
FIRST_CODE = 910001


@dataclass
class Kill:
    """What one SIGKILL left behind, read once the process was gone."""

    at: datetime
    leased: dict[int, tuple[int, datetime]]  # row id -> (application number, lease end)
    posted: list[int]  # the cards in the staff group by then
    restarted: datetime | None = None


def rows(database: Path) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        return db.execute(
            "SELECT id, application_number, status, lease_owner, lease_until, sent_at"
            " FROM outbox ORDER BY id"
        ).fetchall()


def when(text: str) -> datetime:
    """A timestamp as the bot's SQLite database keeps it (naive UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def posted(server: SandboxServer) -> list[int]:
    """The application numbers of the cards in the staff group, in the order posted."""
    numbers = []
    for message in server.messages(server.staff_chat_id):
        numbers.extend(sorted(card_numbers(message.get("reply_markup"))))
    return numbers


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RestartingBot]:
    async with polling_bot(
        tmp_path,
        OUTBOX_PER_CHAT_PER_SECOND=2,
        OUTBOX_PER_GROUP_PER_MINUTE=120,
        OUTBOX_LEASE_S=600,
    ) as bot:
        yield bot


async def enqueue_cards(bot: RestartingBot, count: int) -> list[int]:
    """``count`` applications registered by the product's use case: one card each."""
    settings = Settings(
        BOT_TOKEN=bot.server.token,
        STAFF_CHAT_ID=bot.server.staff_chat_id,
        DATABASE_URL=bot.env["DATABASE_URL"],
        _env_file=None,
    )
    engine = create_engine(settings.database_url.get_secret_value())
    services = build_services(settings, engine=engine)
    try:
        codes = [str(FIRST_CODE + i) for i in range(count)]
        await seed_subscribers(engine, [subscriber_row(code) for code in codes])
        numbers = []
        for i, code in enumerate(codes):
            draft = Draft(
                fin="5ABC12D",
                subscriber_code=code,
                reason_code="absence",
                phone="+994501234567",
                email=f"user{i}@example.com",
                description="Leaving for the summer.",
                notes=None,
                locale="en",
                telegram_user_id=700_000 + i,
                chat_id=700_000 + i,
            )
            numbers.append(await services.journey.submit(draft))
        return numbers
    finally:
        await services.close()


async def kill_while_leased(bot: RestartingBot) -> Kill:
    """Kill the bot once it has sent a few cards and holds a lease; what it left."""
    before = len(posted(bot.server))

    async def sending_and_leased() -> bool:
        if len(posted(bot.server)) < before + CARDS_BEFORE_KILL:
            return False
        return any(r["status"] == "pending" and r["lease_owner"] for r in rows(bot.database))

    await apoll_until(
        sending_and_leased, timeout=60, what="cards going out", procs=[bot.proc], every=0.05
    )
    await bot.kill()
    at = datetime.now(UTC)
    leased = {
        r["id"]: (r["application_number"], when(r["lease_until"]))
        for r in rows(bot.database)
        if r["status"] == "pending" and r["lease_owner"]
    }
    return Kill(at, leased, posted(bot.server))


async def test_kill_9_while_the_outbox_sends(bot: RestartingBot) -> None:
    numbers = await enqueue_cards(bot, CARDS)
    await bot.start()
    kills: list[Kill] = []
    while sum(1 for kill in kills if kill.leased) < KILLS:
        assert len(kills) < 3 * KILLS, "the kills never caught a leased row"
        kill = await kill_while_leased(bot)
        kill.restarted = datetime.now(UTC)
        kills.append(kill)
        await bot.start()

    async def all_sent() -> bool:
        return all(r["status"] == "sent" for r in rows(bot.database))

    await apoll_until(all_sent, timeout=START_TIMEOUT, what="every card", procs=[bot.proc])
    final = {r["id"]: r for r in rows(bot.database)}
    assert all(r["lease_owner"] is None for r in final.values())

    # The row(s) each kill left leased went out long before that lease would have ended:
    # the restarted run took them back at once.
    for kill in kills:
        for row_id, (_number, lease_end) in kill.leased.items():
            assert when(final[row_id]["sent_at"]) < lease_end
    for proc, kill in zip(bot.procs[1:], kills, strict=True):
        if kill.leased:
            assert "took back" in proc.stderr(), proc.tail()

    # Nothing lost, nothing twice but in the window, in queue order.
    cards = posted(bot.server)
    counts = Counter(cards)
    assert set(counts) == set(numbers)
    window = {
        number
        for kill in kills
        for number, _lease_end in kill.leased.values()
        if number in kill.posted
    }
    twice = {number for number, count in counts.items() if count > 1}
    assert twice <= window and max(counts.values()) <= 2, (counts, window)
    assert list(dict.fromkeys(cards)) == sorted(numbers)
    for proc in bot.procs:
        assert "Traceback" not in proc.stderr(), proc.tail()

    resumed = [_resumed(kill, final) for kill in kills]
    from_start = [r[0] for r in resumed]
    from_kill = [r[1] for r in resumed]
    print(
        f"\n{len(kills)} kills ({sum(1 for k in kills if k.leased)} with a row leased), "
        f"{len(twice)} cards posted twice (window: {len(window)}); next card after the "
        f"restart's start: median {statistics.median(from_start):.1f} s, "
        f"max {max(from_start):.1f} s; after the kill: median "
        f"{statistics.median(from_kill):.1f} s, max {max(from_kill):.1f} s"
    )


def _resumed(kill: Kill, final: dict[int, sqlite3.Row]) -> tuple[float, float]:
    """Seconds from the restart's start, and from the kill, to the next card sent."""
    assert kill.restarted is not None
    later = [when(r["sent_at"]) for r in final.values() if when(r["sent_at"]) > kill.at]
    first = min(later)
    return (first - kill.restarted).total_seconds(), (first - kill.at).total_seconds()

"""The record of updates already taken, in the bot's database (storage.seen_updates): the
first claim wins, a copy within the TTL loses, an expired one is taken over, the ids are per
bot, concurrent claims of one update have one winner, and expired rows are purged at most
once a minute. On a migrated SQLite file and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import SeenUpdateRow
from storage.seen_updates import SqlSeenUpdates
from tests.support import emptied_engine
from workflows.clock import FixedClock

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # the time of the conftest's clock
TTL = timedelta(seconds=10)
PURGE_EVERY = timedelta(minutes=1)
BOT = 42


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[AsyncEngine]:
    async with emptied_engine(request.param, db_url, "seen_updates", SeenUpdateRow) as engine:
        yield engine


@pytest.fixture
def seen(engine: AsyncEngine, clock: FixedClock) -> SqlSeenUpdates:
    return SqlSeenUpdates(engine, ttl=TTL, clock=clock, purge_every=PURGE_EVERY)


async def stored(engine: AsyncEngine) -> dict[tuple[int, int], datetime]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(SeenUpdateRow.bot_id, SeenUpdateRow.update_id, SeenUpdateRow.expires_at)
        )
        return {(bot, update): expires for bot, update, expires in result}


async def test_the_first_delivery_wins_and_a_copy_loses(
    seen: SqlSeenUpdates, engine: AsyncEngine
) -> None:
    assert await seen.first_sight(BOT, 1) is True
    assert await seen.first_sight(BOT, 1) is False
    assert await seen.first_sight(BOT, 2) is True
    assert await stored(engine) == {(BOT, 1): T0 + TTL, (BOT, 2): T0 + TTL}


async def test_update_ids_are_per_bot(seen: SqlSeenUpdates) -> None:
    assert await seen.first_sight(BOT, 7) is True
    assert await seen.first_sight(BOT + 1, 7) is True
    assert await seen.first_sight(BOT + 1, 7) is False


async def test_an_expired_record_is_taken_over(
    seen: SqlSeenUpdates, engine: AsyncEngine, clock: FixedClock
) -> None:
    assert await seen.first_sight(BOT, 1) is True
    clock.advance(TTL - timedelta(seconds=1))
    assert await seen.first_sight(BOT, 1) is False  # still within the TTL
    clock.advance(timedelta(seconds=1))
    assert await seen.first_sight(BOT, 1) is True
    assert (await stored(engine))[(BOT, 1)] == T0 + 2 * TTL


async def test_concurrent_claims_of_one_update_have_one_winner(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    # as many workers as claims, each with its own record object on the shared database
    records = [SqlSeenUpdates(engine, ttl=TTL, clock=clock) for _ in range(8)]
    results = await asyncio.gather(*(r.first_sight(BOT, 99) for r in records))
    assert sorted(results) == [False] * 7 + [True]


async def test_expired_rows_are_purged_at_most_once_a_minute(
    seen: SqlSeenUpdates, engine: AsyncEngine, clock: FixedClock
) -> None:
    await seen.first_sight(BOT, 1)  # the first claim purges (nothing yet)
    clock.advance(timedelta(seconds=20))  # update 1 has expired, a minute has not passed
    await seen.first_sight(BOT, 2)
    assert set(await stored(engine)) == {(BOT, 1), (BOT, 2)}
    clock.advance(timedelta(seconds=41))  # a minute and a second since the last purge
    await seen.first_sight(BOT, 3)
    assert set(await stored(engine)) == {(BOT, 3)}


def test_a_ttl_must_be_positive(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="positive"):
        SqlSeenUpdates(engine, ttl=timedelta(0))

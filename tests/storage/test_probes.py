"""The probing counters in the bot's database (storage.probes): an account's values of a
day and kind, a code's distinct accounts, one warning per code and day, and the purge of
the days before a given one. On a migrated SQLite file and, when TEST_DATABASE_URL is set,
on PostgreSQL; last, the use case on them with a fixed clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ProbeRow
from storage.probes import SqlProbeCounters
from tests.support import emptied_engine
from workflows.clock import FixedClock
from workflows.errors import ProbeLimitReached
from workflows.probing import ProbeKind, ProbeLimits, Probing, value_hash

DAY, NEXT, AFTER = "2026-12-07", "2026-12-08", "2026-12-09"
ALICE, BOB = 501, 502
A, B, C = value_hash("100001"), value_hash("100002"), value_hash("100003")


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[AsyncEngine]:
    async with emptied_engine(request.param, db_url, "probes", ProbeRow) as engine:
        yield engine


@pytest.fixture
def counters(engine: AsyncEngine) -> SqlProbeCounters:
    return SqlProbeCounters(engine)


async def rows(engine: AsyncEngine) -> set[tuple[str, int, str, str]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(ProbeRow.day, ProbeRow.account, ProbeRow.kind, ProbeRow.value_hash)
        )
        return {tuple(row) for row in result}  # type: ignore[misc]


async def test_an_accounts_values_are_kept_per_day_and_kind(counters: SqlProbeCounters) -> None:
    await counters.add(DAY, ALICE, ProbeKind.CODE, A)
    await counters.add(DAY, ALICE, ProbeKind.CODE, B)
    await counters.add(DAY, ALICE, ProbeKind.CODE, A)  # again: no error, no second row
    await counters.add(DAY, ALICE, ProbeKind.FIN, C)
    await counters.add(NEXT, ALICE, ProbeKind.CODE, C)
    await counters.add(DAY, BOB, ProbeKind.CODE, C)
    assert await counters.tried(DAY, ALICE, ProbeKind.CODE) == {A, B}
    assert await counters.tried(DAY, ALICE, ProbeKind.FIN) == {C}
    assert await counters.tried(NEXT, ALICE, ProbeKind.CODE) == {C}
    assert await counters.tried(DAY, BOB, ProbeKind.FIN) == frozenset()


async def test_a_codes_accounts_are_counted_once_each_and_per_day(
    counters: SqlProbeCounters,
) -> None:
    for account in (ALICE, BOB, ALICE):
        await counters.add(DAY, account, ProbeKind.CODE, A)
    await counters.add(DAY, 503, ProbeKind.FIN, A)  # a FIN with the same hash is no code
    await counters.add(NEXT, 504, ProbeKind.CODE, A)
    assert await counters.accounts(DAY, A) == 2
    assert await counters.accounts(DAY, B) == 0
    assert await counters.accounts(NEXT, A) == 1


async def test_the_warning_of_a_code_is_given_once_a_day(counters: SqlProbeCounters) -> None:
    assert await counters.first_warning(DAY, A) is True
    assert await counters.first_warning(DAY, A) is False
    assert await counters.first_warning(DAY, B) is True
    assert await counters.first_warning(NEXT, A) is True
    assert await counters.accounts(DAY, A) == 0  # the mark is not an account


async def test_concurrent_warnings_of_one_code_have_one_winner(
    counters: SqlProbeCounters,
) -> None:
    won = await asyncio.gather(*(counters.first_warning(DAY, A) for _ in range(5)))
    assert sorted(won) == [False, False, False, False, True]


async def test_the_purge_deletes_the_days_before_the_given_one(
    counters: SqlProbeCounters, engine: AsyncEngine
) -> None:
    await counters.add(DAY, ALICE, ProbeKind.CODE, A)
    await counters.first_warning(DAY, A)
    await counters.add(NEXT, ALICE, ProbeKind.FIN, B)
    await counters.add(AFTER, BOB, ProbeKind.CODE, C)
    await counters.purge(NEXT)
    assert await rows(engine) == {(NEXT, ALICE, "fin", B), (AFTER, BOB, "code", C)}


async def test_the_limits_on_the_database_with_a_fixed_clock(
    counters: SqlProbeCounters, engine: AsyncEngine
) -> None:
    clock = FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    probing = Probing(counters, clock, ProbeLimits(codes_per_day=2, accounts_per_code=1))
    await probing.try_code(ALICE, "100001")
    await probing.try_code(ALICE, "100002")
    assert not (await probing.try_code(ALICE, "100001")).new
    with pytest.raises(ProbeLimitReached):
        await probing.try_code(ALICE, "100003")
    assert (await probing.try_code(BOB, "100001")).warn
    assert not (await probing.try_code(503, "100001")).warn
    clock.advance(timedelta(days=2))
    assert (await probing.try_code(ALICE, "100003")).new
    # The first check of the day purged the day before yesterday.
    assert {day for day, *_ in await rows(engine)} == {"2026-12-09"}
    assert all(value not in ("100001", "100003") for *_, value in await rows(engine))

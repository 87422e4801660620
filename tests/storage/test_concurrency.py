"""Application numbers under concurrent registrations (DESIGN.md, "Data").

Scenario: many subscribers press "Davam et" at the same moment. Every registration gets its
own number, the numbers increase, and every application is stored. Two presses for the same
subscriber register exactly one application; the other is told about the open one.

The tests run on a migrated SQLite file and, when ``TEST_DATABASE_URL`` names a PostgreSQL
database (``postgresql+asyncpg://...``), on PostgreSQL too. There the schema is dropped and
migrated once per module (Alembic's ``env.py`` runs its own event loop, so in a thread) and
the rows of every table except the reason catalogue are deleted before each test.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from storage.models import (
    ApplicationRow,
    ChatMigrationRow,
    EventRow,
    OutboxRow,
    SubscriberRow,
    UserRow,
)
from storage.registry import SqlSubscriberRegistry
from storage.repositories import (
    SqlApplications,
    SqlTransactionFactory,
    SqlUnitOfWork,
)
from tests.storage.databases import SQLITE_AND_POSTGRES
from tests.support import isolated_pg_url, seed_subscribers, subscriber_row
from workflows.clock import FixedClock
from workflows.errors import OpenApplicationExists
from workflows.journey import Journey
from workflows.models import Draft

STAFF_CHAT_ID = -1001000000001
CONCURRENT = 50


def _in_thread(fn: Callable[..., object], *args: object) -> None:
    """Run ``fn`` outside pytest-asyncio's loop (Alembic's env.py calls asyncio.run)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(fn, *args).result()


@pytest.fixture(scope="module")
def pg_migrated() -> Iterator[str]:
    """A PostgreSQL database migrated from scratch once for this module."""
    url = isolated_pg_url("concurrency")
    assert url
    _in_thread(upgrade_to_head, url)
    yield url


async def _clean(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in (
            OutboxRow,
            EventRow,
            ApplicationRow,
            SubscriberRow,
            UserRow,
            ChatMigrationRow,
        ):
            await conn.execute(delete(table))


@pytest.fixture(params=SQLITE_AND_POSTGRES)
async def db(
    request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        path = tmp_path / "concurrency.db"
        shutil.copy(migrated_template, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
    else:
        engine = create_engine(request.getfixturevalue("pg_migrated"))
        await _clean(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


def _journey(engine: AsyncEngine, *, transactions: Any = None) -> Journey:
    sessions = create_session_factory(engine)
    return Journey(
        registry=SqlSubscriberRegistry(sessions),
        transactions=transactions or SqlTransactionFactory(sessions),
        clock=FixedClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
        staff_chat_id=STAFF_CHAT_ID,
    )


class _CheckedTogether:
    """Units of work whose insert of an application starts only once ``parties`` got there.

    Both submits have passed every check before either inserts: the race that two bot
    workers (or a double press) produce, made certain instead of likely.
    """

    def __init__(self, inner: SqlTransactionFactory, parties: int) -> None:
        self.inner = inner
        self.barrier = asyncio.Barrier(parties)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self.inner() as uow:
            uow.applications = _BarrierApplications(uow.applications, self.barrier)  # type: ignore[assignment]
            yield uow

    def read(self) -> Any:
        return self.inner.read()


class _BarrierApplications:
    def __init__(self, inner: SqlApplications, barrier: asyncio.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, app: Any) -> int:
        await self._barrier.wait()
        return await self._inner.add(app)


def _draft(code: str, user_id: int) -> Draft:
    return Draft(
        fin="5ABC12D",
        subscriber_code=code,
        reason_code="absence",
        phone="+994501234567",
        email="user@example.com",
        description="Going abroad for two months.",
        notes=None,
        locale="az",
        telegram_user_id=user_id,
        chat_id=user_id,
    )


async def _count(engine: AsyncEngine, column: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count(column))) or 0)


async def test_50_registrations_at_once_get_50_distinct_numbers(db: AsyncEngine) -> None:
    codes = [f"{200000 + i}" for i in range(CONCURRENT)]
    await seed_subscribers(db, [subscriber_row(code) for code in codes])
    journey = _journey(db)

    numbers = await asyncio.gather(
        *(journey.submit(_draft(code, 5000 + i)) for i, code in enumerate(codes))
    )

    assert len(set(numbers)) == CONCURRENT
    ordered = sorted(numbers)
    assert all(a < b for a, b in pairwise(ordered))
    assert ordered[0] > 0
    assert await _count(db, ApplicationRow.number) == CONCURRENT
    # each registration brought its history entry and its staff card, in one transaction
    assert await _count(db, EventRow.id) == CONCURRENT
    assert await _count(db, OutboxRow.id) == CONCURRENT
    async with db.connect() as conn:
        stored = dict(
            (
                await conn.execute(select(ApplicationRow.subscriber_code, ApplicationRow.number))
            ).all()
        )
    assert {stored[code] for code in codes} == set(numbers)
    # and the next one is higher than all of them
    await seed_subscribers(db, [subscriber_row("299999")])
    assert await journey.submit(_draft("299999", 6000)) > ordered[-1]


async def test_two_submits_for_the_same_subscriber_register_one(db: AsyncEngine) -> None:
    await seed_subscribers(db, [subscriber_row("300001")])
    sessions = create_session_factory(db)
    journey = _journey(db, transactions=_CheckedTogether(SqlTransactionFactory(sessions), 2))

    results = await asyncio.gather(
        journey.submit(_draft("300001", 7001)),
        journey.submit(_draft("300001", 7002)),
        return_exceptions=True,
    )

    numbers = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, BaseException)]
    assert len(numbers) == 1, results
    assert len(refusals) == 1, results
    assert isinstance(refusals[0], OpenApplicationExists), repr(refusals[0])
    # another account that has not proved the FIN is not told the open one's number
    assert refusals[0].number == 0
    assert await _count(db, ApplicationRow.number) == 1
    assert await _count(db, EventRow.id) == 1
    assert await _count(db, OutboxRow.id) == 1


async def test_submit_after_a_registration_is_refused(db: AsyncEngine) -> None:
    """The same subscriber, one press after the other: the first-step check says it."""
    await seed_subscribers(db, [subscriber_row("300002")])
    journey = _journey(db)
    number = await journey.submit(_draft("300002", 7003))

    with pytest.raises(OpenApplicationExists) as refused:
        await journey.submit(_draft("300002", 7004))

    assert refused.value.number == 0  # not told to another, unproved account
    assert number > 0
    assert await _count(db, ApplicationRow.number) == 1

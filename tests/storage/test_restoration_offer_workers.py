"""Two workers run the restoration offer job at the same moment (issue 19, item 6): each with
its own engine on one database, as two processes are. Exactly one outbox row is written and
``restoration_offered_at`` is set once, by one conditional UPDATE.

On a migrated SQLite file and, when ``TEST_DATABASE_URL`` names a PostgreSQL server, on a
database of its own there (``tests.support.migrated_pg_url``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, create_session_factory
from storage.models import ApplicationRow, EventRow, OutboxRow, SubscriberRow, UserRow
from storage.registry import SqlSubscriberRegistry
from storage.repositories import SqlTransactionFactory
from tests.storage.databases import SQLITE_AND_POSTGRES
from tests.support import draft, migrated_pg_url, seed_subscribers, subscriber_row
from workflows.clock import FixedClock
from workflows.journey import Journey
from workflows.models import StaffMember
from workflows.restoration import Restorations
from workflows.work_orders import WorkOrders

STAFF_CHAT_ID = -1001000000001
REGISTERED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
THREE_DAYS_BEFORE = datetime(2026, 12, 17, 6, 0, tzinfo=UTC)  # 10:00 in Baku
ALI = StaffMember(user_id=501, name="Ali")
CODES = ("100001", "100002", "100003")


@pytest.fixture(params=SQLITE_AND_POSTGRES)
async def url(request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "workers.db"
        shutil.copy(migrated_template, path)
        return f"sqlite+aiosqlite:///{path}"
    found = await migrated_pg_url("restore_offers")
    engine = create_engine(found)
    try:
        async with engine.begin() as conn:
            for table in (OutboxRow, EventRow, ApplicationRow, SubscriberRow, UserRow):
                await conn.execute(delete(table))
    finally:
        await engine.dispose()
    return found


@pytest.fixture
async def engines(url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = create_engine(url), create_engine(url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


def journey(engine: AsyncEngine, clock: FixedClock) -> Journey:
    sessions = create_session_factory(engine)
    return Journey(
        SqlSubscriberRegistry(sessions), SqlTransactionFactory(sessions), clock, STAFF_CHAT_ID
    )


async def done_suspensions(engine: AsyncEngine) -> list[int]:
    """A done suspension with an "until" date on each code (the owner FIN typed)."""
    await seed_subscribers(engine, [subscriber_row(code) for code in CODES])
    clock = FixedClock(REGISTERED)
    filed = journey(engine, clock)
    work_orders = WorkOrders(filed.transactions, clock, STAFF_CHAT_ID)
    numbers = []
    for code in CODES:
        number = await filed.submit(replace(draft(code), suspend_until="2026-12-20"))
        await work_orders.take(number, ALI)
        await work_orders.complete(number, ALI, "Sealed.")
        numbers.append(number)
    return numbers


async def test_two_workers_at_once_send_each_offer_once(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = engines
    numbers = await done_suspensions(first)
    clock = FixedClock(THREE_DAYS_BEFORE)
    workers = [Restorations(journey(engine, clock)) for engine in engines]

    results = await asyncio.gather(*(worker.offer_due() for worker in workers))

    assert sorted(n for found in results for n in found) == numbers
    async with second.connect() as conn:
        rows = (await conn.execute(select(OutboxRow.dedupe_key, OutboxRow.recipient))).all()
        offered = (
            await conn.execute(
                select(ApplicationRow.number, ApplicationRow.restoration_offered_at).where(
                    ApplicationRow.number.in_(numbers)
                )
            )
        ).all()
    keys = sorted(key for key, _ in rows if key.startswith("restore_offer:"))
    assert keys == sorted(f"restore_offer:{n}" for n in numbers)
    assert {at for _, at in offered} == {THREE_DAYS_BEFORE}

    again = await asyncio.gather(*(worker.offer_due() for worker in workers))
    assert again == [[], []]

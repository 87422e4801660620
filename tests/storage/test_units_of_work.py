"""A unit of work's connection (storage.database.connected), on SQLite and PostgreSQL.

A unit of work that ends normally gives its connection back to the pool at once, without the
task SQLAlchemy's ``AsyncConnection.__aexit__`` creates for its shielded close. One that
fails, or is cancelled, still rolls back what it wrote and gives its connection back. A unit
that only reads (``transactions.read()``) sends PostgreSQL its SELECT alone, without BEGIN
and ROLLBACK, and leaves the pooled connection transactional for the next unit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.database import create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from storage.registry import SqlSubscriberRegistry
from storage.repositories import SqlTransactionFactory
from tests.support import eventually, isolated_pg_url, migrated_pg_url
from workflows.ports import UserProfile

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def transactions(
    request: pytest.FixtureRequest, db_url: str
) -> AsyncIterator[SqlTransactionFactory]:
    postgres = request.param == "postgresql"
    engine = create_engine(await migrated_pg_url("units_of_work") if postgres else db_url)
    yield SqlTransactionFactory(create_session_factory(engine))
    await engine.dispose()


def checked_out(engine: AsyncEngine) -> int:
    return engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]


@contextmanager
def created_tasks() -> Iterator[list[asyncio.Task]]:
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task] = []
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro, **kwargs):  # type: ignore[no-untyped-def]
        task = asyncio.Task(coro, loop=loop, **kwargs)
        tasks.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        yield tasks
    finally:
        loop.set_task_factory(previous)


async def _profile(transactions: SqlTransactionFactory, user_id: int) -> UserProfile | None:
    async with transactions() as tx:
        return await tx.profiles.get(user_id)


async def test_a_unit_of_work_that_commits_creates_no_task_and_returns_its_connection(
    transactions: SqlTransactionFactory,
) -> None:
    with created_tasks() as tasks:
        async with transactions() as tx:
            await tx.profiles.save(UserProfile(telegram_user_id=7, locale="ru"), NOW)
            await tx.commit()
        assert checked_out(transactions.engine) == 0
    assert tasks == []
    assert await _profile(transactions, 7) == UserProfile(telegram_user_id=7, locale="ru")


async def test_a_unit_of_work_that_fails_rolls_back_and_returns_its_connection(
    transactions: SqlTransactionFactory,
) -> None:
    with pytest.raises(RuntimeError, match="after the write"):
        async with transactions() as tx:
            await tx.profiles.save(UserProfile(telegram_user_id=8, locale="en"), NOW)
            raise RuntimeError("after the write")
    assert checked_out(transactions.engine) == 0
    assert await _profile(transactions, 8) is None


async def test_a_cancelled_unit_of_work_rolls_back_and_returns_its_connection(
    transactions: SqlTransactionFactory,
) -> None:
    wrote = asyncio.Event()

    async def unit() -> None:
        async with transactions() as tx:
            await tx.profiles.save(UserProfile(telegram_user_id=9, locale="az"), NOW)
            wrote.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(unit())
    await wrote.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checked_out(transactions.engine) == 0
    assert await _profile(transactions, 9) is None


async def test_the_subscriber_lookup_returns_its_connection(
    transactions: SqlTransactionFactory,
) -> None:
    registry = SqlSubscriberRegistry(transactions.session_factory)
    with created_tasks() as tasks:
        assert await registry.lookup("0000000000") is None
    assert tasks == []
    assert checked_out(transactions.engine) == 0


@contextmanager
def transaction_commands(driver_connection: Any) -> Iterator[list[str]]:
    """BEGIN, COMMIT and ROLLBACK as asyncpg sends them on this connection.

    asyncpg's query logger sees what ``Connection.execute`` sends (the transaction control,
    not SQLAlchemy's prepared statements) and calls back on the next turn of the event loop:
    await ``asyncio.sleep(0)`` before reading the list.
    """
    commands: list[str] = []

    def log(record: Any) -> None:
        commands.append(record.query.strip().split()[0].upper().rstrip(";"))

    driver_connection.add_query_logger(log)
    try:
        yield commands
    finally:
        driver_connection.remove_query_logger(log)


@pytest.mark.postgres
async def test_a_read_unit_on_postgresql_sends_no_begin_and_no_rollback() -> None:
    """No BEGIN, and so no ROLLBACK: two round trips fewer per read; the connection is
    transactional again for the next unit of work."""
    url = isolated_pg_url("units_of_work")
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    await asyncio.to_thread(upgrade_to_head, url)
    # One connection in the pool, so every unit below runs on it.
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_reset_on_return=None)
    transactions = SqlTransactionFactory(create_session_factory(engine))
    try:
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection

        with transaction_commands(driver) as commands:
            async with transactions() as tx:
                assert await tx.profiles.get(10) is None
            await asyncio.sleep(0)
        assert commands == ["BEGIN", "ROLLBACK"]

        with transaction_commands(driver) as commands:
            async with transactions.read() as tx:
                assert await tx.profiles.get(10) is None
            await asyncio.sleep(0)
        assert commands == []

        with transaction_commands(driver) as commands:
            with pytest.raises(RuntimeError):
                async with transactions() as tx:
                    await tx.profiles.save(UserProfile(telegram_user_id=10, locale="ru"), NOW)
                    raise RuntimeError("after the write")
            await asyncio.sleep(0)
        assert commands == ["BEGIN", "ROLLBACK"]
        assert await _profile(transactions, 10) is None
    finally:
        await engine.dispose()


async def test_a_read_unit_reads_what_was_committed(
    transactions: SqlTransactionFactory,
) -> None:
    async with transactions() as tx:
        await tx.profiles.save(UserProfile(telegram_user_id=11, locale="en"), NOW)
        await tx.commit()
    async with transactions.read() as tx:
        assert await tx.profiles.get(11) == UserProfile(telegram_user_id=11, locale="en")
    assert checked_out(transactions.engine) == 0


@pytest.mark.postgres
async def test_a_connection_the_postgresql_server_closed_is_replaced_before_use() -> None:
    """A restart (here: pg_terminate_backend of the pooled session) costs no unit of work an
    error, without a ping at every checkout."""
    url = isolated_pg_url("units_of_work")
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    transactions = SqlTransactionFactory(create_session_factory(engine))
    try:
        async with transactions.read() as tx:
            pid = await tx.conn.scalar(text("SELECT pg_backend_pid()"))
            driver = (await tx.conn.get_raw_connection()).driver_connection
        admin_engine = create_async_engine(url)  # a session of its own
        async with admin_engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await admin_engine.dispose()
        # the event loop reads the end of the stream
        await eventually(driver.is_closed, what="the terminated connection to close")

        async with transactions.read() as tx:
            assert await tx.profiles.get(12) is None
            assert await tx.conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()

"""SQLite statements in one round trip to aiosqlite's thread (storage/sqlite_onehop.py).

What SQLAlchemy reads from a cursor after executing must be the same as with its own
adapter: rows, rowcount of an UPDATE, lastrowid of an ORM insert, executemany, the
translation of errors, and rollback of a write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import aiosqlite.core
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_session_factory
from storage.models import EventRow, UserRow
from storage.repositories import SqlTransactionFactory
from storage.sqlite_onehop import OneHopConnection
from workflows.ports import UserProfile

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@contextmanager
def round_trips() -> Iterator[list[str]]:
    """Every call aiosqlite carries to its thread, by the name of the function."""
    calls: list[str] = []
    original = aiosqlite.core.Connection._execute

    async def counting(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]


async def _warm_transactions(engine: AsyncEngine) -> SqlTransactionFactory:
    """A factory whose pool has opened its connection already (opening is not counted)."""
    transactions = SqlTransactionFactory(create_session_factory(engine))
    async with transactions() as tx:
        await tx.profiles.get(1)
    return transactions


async def test_connections_of_the_engine_use_one_hop_cursors(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneHopConnection)


async def test_a_read_is_one_round_trip_and_its_rollback_none(engine: AsyncEngine) -> None:
    transactions = await _warm_transactions(engine)
    with round_trips() as calls:
        async with transactions() as tx:
            assert await tx.profiles.get(42) is None
    assert calls == ["_execute"]


async def test_a_profile_upsert_is_one_statement_and_a_commit(engine: AsyncEngine) -> None:
    transactions = await _warm_transactions(engine)
    with round_trips() as calls:
        async with transactions() as tx:
            await tx.profiles.save(UserProfile(7, locale="ru", fin="5ABC12D"), NOW)
            await tx.commit()
    assert calls == ["_execute", "commit"]
    async with transactions() as tx:
        await tx.profiles.save(UserProfile(7, locale="en", fin="5ABC12D"), NOW)
        await tx.commit()
    async with transactions() as tx:
        assert await tx.profiles.get(7) == UserProfile(7, locale="en", fin="5ABC12D")


async def test_rowcount_lastrowid_and_executemany(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(
            UserRow.__table__.insert(),
            [{"telegram_user_id": n, "locale": "az", "updated_at": NOW} for n in range(1, 6)],
        )
        assert result.rowcount == 5
        changed = await conn.execute(
            update(UserRow).where(UserRow.telegram_user_id > 2).values(locale="ru")
        )
        assert changed.rowcount == 3
        assert await conn.scalar(select(func.count()).select_from(UserRow)) == 5
        streamed = await conn.execute(select(UserRow.telegram_user_id).order_by(text("1")))
        assert streamed.fetchmany(2) == [(1,), (2,)]
        assert streamed.fetchall() == [(3,), (4,), (5,)]
    sessions = create_session_factory(engine)
    async with sessions() as session:
        session.add(UserRow(telegram_user_id=99, locale=None, fin=None, updated_at=NOW))
        await session.commit()
        row = await session.get(UserRow, 99)
        assert row is not None and row.updated_at == NOW


async def test_errors_are_translated_and_a_failed_write_rolls_back(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                EventRow.__table__.insert(),
                {"application_number": 999_999, "at": NOW, "kind": "registered", "actor": "x"},
            )
    async with engine.begin() as conn:
        await conn.execute(
            UserRow.__table__.insert(), {"telegram_user_id": 5, "locale": "az", "updated_at": NOW}
        )
        await conn.rollback()
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(UserRow)) == 0

"""The probing counters (``workflows.probing.ProbeCounters``) in the bot's database.

One row of ``probes`` per (day, account, kind, value hash): an account's tried values are its
rows of the day, a code's accounts are counted on the ``(day, kind, value_hash)`` index, and
a code's warning is a row of kind ``warned`` (account 0) that only the first insert writes.
Every statement is atomic on its own (autocommit on PostgreSQL, as ``storage.seen_updates``);
``purge`` deletes the days before a given one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import connected, dialect_insert, is_postgres
from storage.models import ProbeRow
from workflows.probing import ProbeKind

probes: Table = ProbeRow.__table__  # type: ignore[assignment]
_COLUMNS = probes.c
WARNED = "warned"
NO_ACCOUNT = 0


@cache
def _insert(dialect: str) -> Any:
    return dialect_insert(dialect)(probes).on_conflict_do_nothing()


class SqlProbeCounters:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if is_postgres(engine)
            else engine
        )
        self._dialect = engine.dialect.name

    async def tried(self, day: str, account: int, kind: ProbeKind) -> frozenset[str]:
        query = select(_COLUMNS.value_hash).where(
            _COLUMNS.day == day, _COLUMNS.account == account, _COLUMNS.kind == kind.value
        )
        async with connected(self._engine, read_only=True) as conn:
            return frozenset((await conn.execute(query)).scalars())

    async def add(self, day: str, account: int, kind: ProbeKind, value: str) -> None:
        await self._insert(day, account, kind.value, value)

    async def accounts(self, day: str, code: str) -> int:
        query = select(func.count(_COLUMNS.account.distinct())).where(
            _COLUMNS.day == day,
            _COLUMNS.kind == ProbeKind.CODE.value,
            _COLUMNS.value_hash == code,
        )
        async with connected(self._engine, read_only=True) as conn:
            return int((await conn.execute(query)).scalar_one())

    async def first_warning(self, day: str, code: str) -> bool:
        return await self._insert(day, NO_ACCOUNT, WARNED, code)

    async def purge(self, before_day: str) -> None:
        async with connected(self._engine) as conn:
            await conn.execute(delete(probes).where(_COLUMNS.day < before_day))
            await conn.commit()

    async def _insert(self, day: str, account: int, kind: str, value: str) -> bool:
        row = {"day": day, "account": account, "kind": kind, "value_hash": value}
        async with connected(self._engine) as conn:
            inserted = await conn.execute(_insert(self._dialect), row)
            await conn.commit()
        return bool(inserted.rowcount)

"""aiogram's FSM storage in the bot's own database (SQLite or PostgreSQL), when there is no Redis.

Not aiogram-sqlalchemy-storage 0.2: it reads before every write (two to four statements a set, and
two first writes of a key race to INSERT), has no expiry, and declares its own table at run time.

One row of ``fsm_state`` per key of ``DefaultKeyBuilder(with_destiny=True)``, the layout of the
Redis keys (aiogram-dialog keeps its stacks and contexts under destinies of their own) without
Redis' ``:state``/``:data`` suffix: the state, the data as JSON text (``json.dumps``, as
RedisStorage writes it) and ``updated_at``. A row not written for ``ttl`` reads as absent, and the
first write after every ``purge_every`` deletes the expired rows.

Statements per call: a get is one SELECT; a set is one upsert (``INSERT ... ON CONFLICT DO
UPDATE``, which also forgets the other half of an expired row); clearing the state or the data is
one DELETE when the other half is empty too (aiogram-dialog's closed contexts: like Redis, no row
stays behind), else that DELETE and an UPDATE. On PostgreSQL the statements run in autocommit mode:
each is atomic on its own, and BEGIN and COMMIT would cost a round trip each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import connected, is_postgres
from storage.models import FsmStateRow
from workflows.clock import SystemClock
from workflows.ports import Clock

logger = logging.getLogger(__name__)

fsm_state: Table = FsmStateRow.__table__  # type: ignore[assignment]

Half = Literal["state", "data"]
DEFAULT_TTL = timedelta(days=7)
DEFAULT_PURGE_EVERY = timedelta(hours=1)

_COLUMNS = fsm_state.c
_EXPIRED = _COLUMNS.updated_at < bindparam("cutoff")
_GET: dict[Half, Any] = {
    half: select(_COLUMNS[half]).where(_COLUMNS.key == bindparam("row_key"), ~_EXPIRED)
    for half in ("state", "data")
}
_PURGE = delete(fsm_state).where(_EXPIRED)


def _other(half: Half) -> Half:
    return "data" if half == "state" else "state"


@cache
def _upsert(dialect: str, half: Half) -> Any:
    """Write ``half`` of a key; the other half survives unless the row had expired."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(fsm_state)
    other = _other(half)
    return stmt.on_conflict_do_update(
        index_elements=[_COLUMNS.key],
        set_={
            half: stmt.excluded[half],
            other: case((_EXPIRED, None), else_=_COLUMNS[other]),
            "updated_at": stmt.excluded.updated_at,
        },
    )


# Clearing ``half``: the row goes when the other half is empty (or expired) ...
_DROP: dict[Half, Any] = {
    half: delete(fsm_state).where(
        _COLUMNS.key == bindparam("row_key"), _COLUMNS[_other(half)].is_(None) | _EXPIRED
    )
    for half in ("state", "data")
}
# ... else only ``half`` does; ``updated_at`` stays, as a Redis key's TTL does on a DEL of another.
_BLANK: dict[Half, Any] = {
    half: update(fsm_state)
    .where(_COLUMNS.key == bindparam("row_key"), _COLUMNS[half].is_not(None))
    .values({half: None})
    for half in ("state", "data")
}


class SqlStorage(BaseStorage):
    """``BaseStorage`` over the bot's engine; ``close`` leaves the engine to its owner."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        ttl: timedelta = DEFAULT_TTL,
        purge_every: timedelta = DEFAULT_PURGE_EVERY,
        json_dumps: Callable[[Any], str] = json.dumps,
        json_loads: Callable[[str], Any] = json.loads,
    ) -> None:
        if ttl <= timedelta(0) or purge_every <= timedelta(0):
            raise ValueError("ttl and purge_every must be positive")
        self.engine = engine
        # The pool is the bot's; these connections only switch to autocommit while checked out.
        self._engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if is_postgres(engine)
            else engine
        )
        self._dialect = engine.dialect.name
        self.key_builder = DefaultKeyBuilder(with_destiny=True)
        self.clock = clock or SystemClock()
        self.ttl = ttl
        self.purge_every = purge_every
        self.json_dumps = json_dumps
        self.json_loads = json_loads
        self._next_purge: datetime | None = None

    async def close(self) -> None:
        pass

    # --- BaseStorage ------------------------------------------------------------------------

    async def get_state(self, key: StorageKey) -> str | None:
        value = await self._get(key, "state")
        return None if value is None else str(value)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        if value is None:
            await self._clear(key, "state")
        else:
            await self._set(key, "state", value)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        value = await self._get(key, "data")
        if value is None:
            return {}
        data: dict[str, Any] = self.json_loads(value)
        return data

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        if not data:
            await self._clear(key, "data")
        else:
            await self._set(key, "data", self.json_dumps(data))

    # --- the statements ---------------------------------------------------------------------

    def _row_key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def _get(self, key: StorageKey, half: Half) -> Any:
        cutoff = self.clock.now() - self.ttl
        async with connected(self._engine) as conn:
            result = await conn.execute(
                _GET[half], {"row_key": self._row_key(key), "cutoff": cutoff}
            )
            return result.scalar()

    async def _set(self, key: StorageKey, half: Half, value: str) -> None:
        now = self.clock.now()
        params = {"key": self._row_key(key), half: value, "updated_at": now}
        async with self._writing() as conn:
            await conn.execute(_upsert(self._dialect, half), {**params, "cutoff": now - self.ttl})
        await self._purge_if_due(now)

    async def _clear(self, key: StorageKey, half: Half) -> None:
        now = self.clock.now()
        row_key = self._row_key(key)
        async with self._writing() as conn:
            dropped = await conn.execute(
                _DROP[half], {"row_key": row_key, "cutoff": now - self.ttl}
            )
            if not dropped.rowcount:
                await conn.execute(_BLANK[half], {"row_key": row_key})
        await self._purge_if_due(now)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        async with connected(self._engine) as conn:
            yield conn
            await conn.commit()  # SQLite's transaction; nothing to do in autocommit mode

    async def _purge_if_due(self, now: datetime) -> None:
        """Delete the expired rows at the first write of each ``purge_every``."""
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + self.purge_every
        try:
            async with self._writing() as conn:
                purged = await conn.execute(_PURGE, {"cutoff": now - self.ttl})
        except SQLAlchemyError as exc:  # the write it follows has succeeded: keep it so
            logger.warning("fsm storage: the purge of expired rows failed: %s", type(exc).__name__)
            return
        if purged.rowcount:
            logger.info("fsm storage: %d expired rows deleted", purged.rowcount)

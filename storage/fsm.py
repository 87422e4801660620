"""aiogram's FSM storage in the bot's own database (SQLite or PostgreSQL), when there is no Redis.

ONE WORKER ONLY. This storage keeps the rows it has read or written in the memory of its
process (below), and the bot pairs it with aiogram's in-process event isolation
(``bot.app.build_storage``): two workers on one database would each serve their own, stale,
copy of a dialog and handle one user's updates at the same time. Several workers keep dialog
state in Redis (``REDIS_URL``, as ``compose.yaml`` does), which is the default as soon as
``REDIS_URL`` is set.

(Over 400 lines on purpose: aiogram's storage protocol, its write-through cache and the
expiry of abandoned rows are one mechanism; the erasure's prefix delete belongs with them.)

Not aiogram-sqlalchemy-storage 0.2: it reads before every write (two to four statements a set, and
two first writes of a key race to INSERT), has no expiry, and declares its own table at run time.

One row of ``fsm_state`` per key of ``DefaultKeyBuilder(with_destiny=True)``, the layout of the
Redis keys (aiogram-dialog keeps its stacks and contexts under destinies of their own) without
Redis' ``:state``/``:data`` suffix: the state, the data as JSON text (``json.dumps``, as
RedisStorage writes it) and ``updated_at``. A row not written for ``ttl`` reads as absent, and the
first write after every ``purge_every`` deletes the expired rows.

The cache: the last ``cache_size`` keys used (10,000 by default; 0 turns it off), each with its
row as the database has it (or the knowledge that there is none), least recently used out
first. A read of a cached key issues no statement; a miss reads the whole row in one SELECT. A
write goes to the database first and only then to the cache (what a restart finds is what the
cache said); a write that fails, is cancelled, or overlaps another write of its key leaves the
key out of the cache, and a read that overlaps a write of its key caches nothing. A write that would store what the
row already holds is skipped (aiogram-dialog saves every context and stack it loaded, changed
or not), unless the row was last written more than ``ttl / 1000`` ago (ten minutes of the
default seven days): a dialog in use keeps its row alive, at most that much short of ``ttl``
after its last save. Expiry is the database's rule applied to the cached ``updated_at`` with
the same clock, so a cached row older than ``ttl`` reads as absent.

Statements per call, when the cache cannot answer: a get is one SELECT; a set is one upsert
(``INSERT ... ON CONFLICT DO UPDATE``, which also forgets the other half of an expired row,
``RETURNING`` that other half when the cache does not know it); clearing the state or the data is one DELETE when the other half is
empty too (aiogram-dialog's closed contexts: like Redis, no row stays behind), else that DELETE
and an UPDATE. On PostgreSQL the statements run in autocommit mode: each is atomic on its own,
and BEGIN and COMMIT would cost a round trip each.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, NamedTuple

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import connected, dialect_insert, is_postgres
from storage.models import FsmStateRow
from workflows.clock import SystemClock
from workflows.ports import Clock

logger = logging.getLogger(__name__)

fsm_state: Table = FsmStateRow.__table__  # type: ignore[assignment]

Half = Literal["state", "data"]
DEFAULT_TTL = timedelta(days=7)
DEFAULT_PURGE_EVERY = timedelta(hours=1)
DEFAULT_CACHE_SIZE = 10_000

_COLUMNS = fsm_state.c
_EXPIRED = _COLUMNS.updated_at < bindparam("cutoff")
_GET = select(_COLUMNS.state, _COLUMNS.data, _COLUMNS.updated_at).where(
    _COLUMNS.key == bindparam("row_key")
)
_PURGE = delete(fsm_state).where(_EXPIRED)


def _other(half: Half) -> Half:
    return "data" if half == "state" else "state"


@cache
def _upsert(dialect: str, half: Half, returning: bool) -> Any:
    """Write ``half`` of a key (``returning`` the other, which survives unless the row had
    expired)."""
    stmt = dialect_insert(dialect)(fsm_state)
    other = _other(half)
    upsert = stmt.on_conflict_do_update(
        index_elements=[_COLUMNS.key],
        set_={
            half: stmt.excluded[half],
            other: case((_EXPIRED, None), else_=_COLUMNS[other]),
            "updated_at": stmt.excluded.updated_at,
        },
    )
    return upsert.returning(_COLUMNS[other]) if returning else upsert


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
    .where(_COLUMNS.key == bindparam("row_key"))
    .values({half: None})
    .returning(_COLUMNS[_other(half)], _COLUMNS.updated_at)
    for half in ("state", "data")
}


class Row(NamedTuple):
    """A row of ``fsm_state`` as the database holds it; no ``updated_at``: there is no row."""

    state: str | None = None
    data: str | None = None
    updated_at: datetime | None = None


ABSENT = Row()


def _row(half: Half, value: str | None, other: str | None, updated_at: datetime | None) -> Row:
    if half == "state":
        return Row(value, other, updated_at)
    return Row(other, value, updated_at)


class _Flight:
    """The reads and writes of one key that are waiting for the database."""

    __slots__ = ("epoch", "ops", "writes")

    def __init__(self) -> None:
        self.ops = 0
        self.writes = 0
        self.epoch = 0  # writes started so far


class RowCache:
    """The rows of the last ``size`` keys used, least recently used out first.

    A row gets in only when no other write of its key can have changed the database in the
    meantime: ``reading`` and ``writing`` wrap the statements of one key, and ``done(row)``
    caches what they found or left (see the module docstring)."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("cache_size must not be negative")
        self.size = size
        self._rows: OrderedDict[str, Row] = OrderedDict()
        self._flights: dict[str, _Flight] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def get(self, key: str) -> Row | None:
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
        return row

    def settled(self, key: str) -> Row | None:
        """The cached row, unless a write of ``key`` is under way (the row may change)."""
        flight = self._flights.get(key)
        return None if flight is not None and flight.writes else self.get(key)

    @contextmanager
    def reading(self, key: str) -> Iterator[Callable[[Row], Row]]:
        """Around a read: ``done(row)`` caches ``row`` unless a write of ``key`` was under way
        at any moment of the read."""
        flight = self._enter(key)
        clean, epoch = not flight.writes, flight.epoch

        def done(row: Row) -> Row:
            if clean and flight.epoch == epoch:
                self._put(key, row)
            return row

        try:
            yield done
        finally:
            self._leave(key, flight)

    @contextmanager
    def writing(self, key: str) -> Iterator[Callable[[Row], None]]:
        """Around a write, after it has committed: ``done(row)`` caches the row it left
        unless another write of ``key`` overlapped it (which of the two the database
        applied last is unknown); a write that fails or is cancelled leaves ``key`` out."""
        flight = self._enter(key)
        alone = not flight.writes
        flight.writes += 1
        flight.epoch += 1
        epoch = flight.epoch

        def done(row: Row) -> None:
            if alone and flight.epoch == epoch:
                self._put(key, row)
            else:
                self._rows.pop(key, None)

        try:
            yield done
        except BaseException:
            self._rows.pop(key, None)
            raise
        finally:
            flight.writes -= 1
            self._leave(key, flight)

    def drop_prefix(self, prefix: str) -> None:
        """Forget every cached key that starts with ``prefix``."""
        for key in [key for key in self._rows if key.startswith(prefix)]:
            del self._rows[key]

    def _put(self, key: str, row: Row) -> None:
        self._rows[key] = row
        self._rows.move_to_end(key)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def _enter(self, key: str) -> _Flight:
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = _Flight()
        flight.ops += 1
        return flight

    def _leave(self, key: str, flight: _Flight) -> None:
        flight.ops -= 1
        if not flight.ops:
            del self._flights[key]


class SqlStorage(BaseStorage):
    """``BaseStorage`` over the bot's engine; ``close`` leaves the engine to its owner."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        ttl: timedelta = DEFAULT_TTL,
        purge_every: timedelta = DEFAULT_PURGE_EVERY,
        cache_size: int = DEFAULT_CACHE_SIZE,
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
        self.renew_after = ttl / 1000
        self.purge_every = purge_every
        self.json_dumps = json_dumps
        self.json_loads = json_loads
        self._next_purge: datetime | None = None
        self._cache = RowCache(cache_size)

    async def close(self) -> None:
        pass

    # --- BaseStorage ------------------------------------------------------------------------

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._get(key, "state")

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        if value is None:
            await self._clear(key, "state")
        else:
            await self._set(key, "state", str(value))

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

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every row whose key starts with ``prefix`` (every destiny of one chat and
        user: an erasure), in the database and in the cache; returns how many rows went."""
        async with self._writing() as conn:
            result = await conn.execute(
                delete(fsm_state).where(_COLUMNS.key.startswith(prefix, autoescape=True))
            )
        self._cache.drop_prefix(prefix)
        return int(result.rowcount or 0)

    # --- the cache and the statements -------------------------------------------------------

    def _row_key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    def _live(self, row: Row, now: datetime) -> Row:
        """``row`` as a read sees it at ``now``: absent once it is older than the TTL."""
        if row.updated_at is None or row.updated_at < now - self.ttl:
            return ABSENT
        return row

    def _known(self, row_key: str, now: datetime) -> Row | None:
        """The row as the cache knows it at ``now``, unless a write of it is under way."""
        cached = self._cache.settled(row_key)
        return None if cached is None else self._live(cached, now)

    def _unchanged(self, known: Row | None, half: Half, value: str | None, now: datetime) -> bool:
        """Whether writing ``value`` would leave the row as it is. A write of a value renews
        the row too, so it is skipped only while the row is recent."""
        if known is None or getattr(known, half) != value:
            return False
        return value is None or (
            known.updated_at is not None and known.updated_at >= now - self.renew_after
        )

    async def _get(self, key: StorageKey, half: Half) -> str | None:
        now = self.clock.now()
        row_key = self._row_key(key)
        row = self._cache.get(row_key)
        if row is None:
            with self._cache.reading(row_key) as done:
                async with connected(self._engine) as conn:
                    found = (await conn.execute(_GET, {"row_key": row_key})).first()
                row = done(ABSENT if found is None else Row(*found))
        value: str | None = getattr(self._live(row, now), half)
        return value

    async def _set(self, key: StorageKey, half: Half, value: str) -> None:
        now = self.clock.now()
        row_key = self._row_key(key)
        known = self._known(row_key, now)
        if self._unchanged(known, half, value, now):
            return
        params = {"key": row_key, half: value, "updated_at": now, "cutoff": now - self.ttl}
        with self._cache.writing(row_key) as done:
            async with self._writing() as conn:
                # The other half stays as it is: from the cache, else from the database.
                result = await conn.execute(_upsert(self._dialect, half, known is None), params)
                other = result.scalar_one() if known is None else getattr(known, _other(half))
            done(_row(half, value, other, now))
        await self._purge_if_due(now)

    async def _clear(self, key: StorageKey, half: Half) -> None:
        now = self.clock.now()
        row_key = self._row_key(key)
        if self._unchanged(self._known(row_key, now), half, None, now):
            return
        with self._cache.writing(row_key) as done:
            async with self._writing() as conn:
                dropped = await conn.execute(
                    _DROP[half], {"row_key": row_key, "cutoff": now - self.ttl}
                )
                kept = None
                if not dropped.rowcount:
                    kept = (await conn.execute(_BLANK[half], {"row_key": row_key})).first()
            # What stays is the other half, neither empty nor expired (else the row went).
            done(ABSENT if kept is None else _row(half, None, *kept))
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

"""The FSM storage in the bot's database (storage.fsm): aiogram's storage contract, the key
layout of RedisStorage with destinies, expiry with a fixed clock, one statement per get and per
set, and the cache in front of it (reads and unchanged writes without a statement, its bound,
and what a failed or overlapping write or a restart leaves). On a migrated SQLite file and,
when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.fsm import Row, RowCache, SqlStorage
from storage.models import FsmStateRow
from tests.support import emptied_engine
from workflows.clock import FixedClock

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TTL = timedelta(days=7)
PURGE_EVERY = timedelta(hours=1)
USER = StorageKey(bot_id=42, chat_id=7001, user_id=7001)
STACK = StorageKey(bot_id=42, chat_id=7001, user_id=7001, destiny="aiogd:stack:")
OTHER = StorageKey(bot_id=42, chat_id=7002, user_id=7002)


class Form(StatesGroup):
    code = State()


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[AsyncEngine]:
    async with emptied_engine(request.param, db_url, "fsm_storage", FsmStateRow) as engine:
        yield engine


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def storage(engine: AsyncEngine, clock: FixedClock) -> SqlStorage:
    return SqlStorage(engine, clock=clock, ttl=TTL, purge_every=PURGE_EVERY)


async def rows(engine: AsyncEngine) -> dict[str, tuple[str | None, Any]]:
    """key -> (state, data as stored: the JSON text)."""
    async with engine.connect() as conn:
        result = await conn.execute(select(FsmStateRow.key, FsmStateRow.state, FsmStateRow.data))
        return {key: (state, data) for key, state, data in result}


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql.split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_an_unknown_key_has_no_state_and_no_data(storage: SqlStorage) -> None:
    assert await storage.get_state(USER) is None
    assert await storage.get_data(USER) == {}


async def test_state_and_data_are_kept_apart(storage: SqlStorage, engine: AsyncEngine) -> None:
    await storage.set_state(USER, Form.code)
    await storage.set_data(USER, {"code": "100001"})
    assert await storage.get_state(USER) == "Form:code"
    assert await storage.get_data(USER) == {"code": "100001"}

    await storage.set_state(USER, None)  # clearing one half leaves the other
    assert await storage.get_state(USER) is None
    assert await storage.get_data(USER) == {"code": "100001"}
    await storage.set_state(USER, "Form:code")
    await storage.set_data(USER, {})
    assert await storage.get_state(USER) == "Form:code"
    assert await storage.get_data(USER) == {}

    await storage.set_state(USER, None)  # both empty: no row stays behind, as in Redis
    assert await rows(engine) == {}


async def test_data_is_json_as_redis_stores_it(storage: SqlStorage, engine: AsyncEngine) -> None:
    data = {
        "intents": ["a1b2", "c3d4"],
        "last_message_id": 17,
        "widget_data": {"reason": None, "ok": True},
        "text": "Bakı ş., Nəsimi r. «5»",
    }
    await storage.set_data(USER, data)
    assert await storage.get_data(USER) == data
    (stored,) = (await rows(engine)).values()
    assert stored == (None, json.dumps(data))

    assert await storage.update_data(USER, {"last_message_id": 18}) == {
        **data,
        "last_message_id": 18,
    }
    assert (await storage.get_data(USER))["last_message_id"] == 18
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(USER, [("a", 1)])  # type: ignore[arg-type]


async def test_keys_carry_the_destiny_like_redis(storage: SqlStorage, engine: AsyncEngine) -> None:
    thread = StorageKey(bot_id=42, chat_id=-100500, user_id=7001, thread_id=9)
    await storage.set_data(USER, {"profile": {"locale": "en"}})
    await storage.set_data(STACK, {"intents": ["a1b2"]})
    await storage.set_state(thread, "Form:code")

    assert await storage.get_data(USER) == {"profile": {"locale": "en"}}
    assert await storage.get_data(STACK) == {"intents": ["a1b2"]}
    assert await storage.get_state(USER) is None
    assert await storage.get_state(thread) == "Form:code"
    # RedisStorage's keys (DefaultKeyBuilder(with_destiny=True)) without the ":data" part
    redis = DefaultKeyBuilder(with_destiny=True)
    keys = set(await rows(engine))
    assert keys == {
        "fsm:7001:7001:default",
        "fsm:7001:7001:aiogd:stack:",
        "fsm:-100500:9:7001:default",
    }
    assert {redis.build(k, "data").removesuffix(":data") for k in (USER, STACK, thread)} == keys


async def test_a_row_expires_after_the_ttl(storage: SqlStorage, clock: FixedClock) -> None:
    await storage.set_state(USER, "Form:code")
    await storage.set_data(USER, {"code": "100001"})

    clock.advance(TTL - timedelta(seconds=1))
    assert await storage.get_state(USER) == "Form:code"
    assert await storage.get_data(USER) == {"code": "100001"}
    await storage.set_data(USER, {"code": "100002"})  # a write renews the whole row

    clock.advance(TTL - timedelta(seconds=1))
    assert await storage.get_state(USER) == "Form:code"
    clock.advance(timedelta(seconds=2))
    assert await storage.get_state(USER) is None
    assert await storage.get_data(USER) == {}


async def test_a_write_to_an_expired_row_does_not_bring_back_the_rest(
    storage: SqlStorage, clock: FixedClock
) -> None:
    await storage.set_state(USER, "Form:code")
    await storage.set_data(USER, {"code": "100001"})
    clock.advance(TTL + timedelta(seconds=1))

    await storage.set_state(USER, "Form:code")
    assert await storage.get_data(USER) == {}
    await storage.set_data(STACK, {"intents": ["a1b2"]})
    clock.advance(TTL + timedelta(seconds=1))
    await storage.set_data(STACK, {"intents": ["e5f6"]})
    assert await storage.get_state(STACK) is None
    assert await storage.get_data(STACK) == {"intents": ["e5f6"]}


async def test_expired_rows_are_purged_once_per_interval(
    storage: SqlStorage, engine: AsyncEngine, clock: FixedClock
) -> None:
    early = StorageKey(bot_id=42, chat_id=7002, user_id=7002)
    late = StorageKey(bot_id=42, chat_id=7003, user_id=7003)
    await storage.set_data(early, {"code": "100001"})  # the first write purges (nothing yet)
    clock.advance(timedelta(minutes=30))
    await storage.set_data(late, {"code": "100002"})
    clock.advance(TTL - timedelta(minutes=20))  # early expired 10 minutes ago, late has not
    await storage.set_data(USER, {"code": "100003"})  # a purge is due: early goes
    assert set(await rows(engine)) == {"fsm:7003:7003:default", "fsm:7001:7001:default"}

    clock.advance(PURGE_EVERY / 2)  # late has expired too, but the last purge is recent
    await storage.set_data(USER, {"code": "100004"})
    assert await storage.get_data(late) == {}
    assert len(await rows(engine)) == 2
    clock.advance(PURGE_EVERY / 2)
    await storage.set_data(USER, {"code": "100005"})
    assert set(await rows(engine)) == {"fsm:7001:7001:default"}


async def test_one_statement_per_get_and_per_set(storage: SqlStorage, engine: AsyncEngine) -> None:
    # Past the first write's purge, with a key of its own: the cache answers for the keys it
    # has seen (below), so here it has not seen USER and STACK yet.
    await storage.set_data(OTHER, {"intents": ["a1b2"]})
    with statements(engine) as seen:
        await storage.get_data(STACK)
        await storage.get_state(USER)
        await storage.set_data(STACK, {"intents": ["a1b2", "c3d4"]})
        await storage.set_state(USER, "Form:code")
        await storage.set_data(STACK, {})  # a closed dialog: the row goes in one statement
    assert seen == ["SELECT", "SELECT", "INSERT", "INSERT", "DELETE"]


async def test_concurrent_first_writes_of_one_key_all_succeed(storage: SqlStorage) -> None:
    await asyncio.gather(*(storage.set_data(USER, {"n": n}) for n in range(20)))
    assert (await storage.get_data(USER))["n"] in range(20)


async def test_the_ttl_must_be_positive(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="positive"):
        SqlStorage(engine, ttl=timedelta(0))


# --- the cache -------------------------------------------------------------------------------


async def test_a_second_read_is_served_from_the_cache(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.set_data(OTHER, {"n": 1})  # past the first write's purge
    with statements(engine) as seen:
        assert await storage.get_data(STACK) == {}  # a miss reads the whole row ...
        assert await storage.get_data(STACK) == {}  # ... even one that is not there
        assert await storage.get_state(STACK) is None
        await storage.set_data(STACK, {"intents": ["a1b2"]})
        await storage.set_state(STACK, "Form:code")
        assert await storage.get_data(STACK) == {"intents": ["a1b2"]}  # what the writes left
        assert await storage.get_state(STACK) == "Form:code"
        assert await storage.get_data(OTHER) == {"n": 1}
    assert seen == ["SELECT", "INSERT", "INSERT"]


async def test_an_unchanged_write_issues_no_statement_a_changed_one_does(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.set_state(USER, "Form:code")
    await storage.set_data(USER, {"code": "100001", "step": 2})
    with statements(engine) as seen:
        await storage.set_data(USER, {"code": "100001", "step": 2})  # a new dict, same data
        await storage.set_state(USER, Form.code)
        await storage.set_data(STACK, {})  # not cached: cleared, and now known to be absent
    assert seen == ["DELETE", "UPDATE"]
    with statements(engine) as seen:
        await storage.set_data(STACK, {})
        await storage.set_data(USER, {"code": "100001", "step": 3})
        await storage.set_state(USER, None)
    assert seen == ["INSERT", "DELETE", "UPDATE"]
    assert await rows(engine) == {
        "fsm:7001:7001:default": (None, json.dumps({"code": "100001", "step": 3}))
    }


async def test_an_unchanged_write_still_renews_a_row_that_is_not_recent(
    storage: SqlStorage, engine: AsyncEngine, clock: FixedClock
) -> None:
    assert storage.renew_after == TTL / 1000
    await storage.set_data(USER, {"code": "100001"})
    clock.advance(storage.renew_after)
    with statements(engine) as seen:
        await storage.set_data(USER, {"code": "100001"})  # as old as renew_after: skipped
    assert seen == []
    clock.advance(timedelta(seconds=1))
    with statements(engine) as seen:
        await storage.set_data(USER, {"code": "100001"})  # older: written, so renewed
    assert seen == ["INSERT"]
    clock.advance(TTL - timedelta(seconds=1))
    assert await storage.get_data(USER) == {"code": "100001"}
    assert await SqlStorage(engine, clock=clock, ttl=TTL).get_data(USER) == {"code": "100001"}


async def test_the_ttl_holds_through_the_cache(
    storage: SqlStorage, engine: AsyncEngine, clock: FixedClock
) -> None:
    await storage.set_state(USER, "Form:code")
    await storage.set_data(USER, {"code": "100001"})
    clock.advance(TTL)
    with statements(engine) as seen:
        assert await storage.get_state(USER) == "Form:code"  # exactly the TTL old: alive
        clock.advance(timedelta(microseconds=1))
        assert await storage.get_state(USER) is None  # older: absent, though cached
        assert await storage.get_data(USER) == {}
        await storage.set_data(USER, {})  # clearing what has expired: nothing to do
    assert seen == []
    await storage.set_state(USER, "Form:code")  # a write to the expired row: the data stays gone
    assert await storage.get_data(USER) == {}
    assert await SqlStorage(engine, clock=clock, ttl=TTL).get_data(USER) == {}


async def test_the_cache_keeps_the_last_keys_used(engine: AsyncEngine, clock: FixedClock) -> None:
    storage = SqlStorage(engine, clock=clock, ttl=TTL, cache_size=2)
    first, second, third = (StorageKey(bot_id=42, chat_id=c, user_id=c) for c in (1, 2, 3))
    await storage.set_data(first, {"n": 1})
    await storage.set_data(second, {"n": 2})
    assert await storage.get_data(first) == {"n": 1}  # first is now the more recent
    await storage.set_data(third, {"n": 3})  # ... so second goes
    assert len(storage._cache) == 2
    with statements(engine) as seen:
        assert await storage.get_data(first) == {"n": 1}
        assert await storage.get_data(third) == {"n": 3}
    assert seen == []
    with statements(engine) as seen:
        assert await storage.get_data(second) == {"n": 2}  # read again; first goes
        assert await storage.get_data(first) == {"n": 1}
    assert seen == ["SELECT", "SELECT"]
    assert len(storage._cache) == 2


async def test_no_cache_reads_every_time(engine: AsyncEngine, clock: FixedClock) -> None:
    storage = SqlStorage(engine, clock=clock, ttl=TTL, cache_size=0)
    await storage.set_data(USER, {"n": 1})
    with statements(engine) as seen:
        await storage.get_data(USER)
        await storage.get_data(USER)
        await storage.set_data(USER, {"n": 1})
    assert seen == ["SELECT", "SELECT", "INSERT"]
    with pytest.raises(ValueError, match="negative"):
        SqlStorage(engine, cache_size=-1)


@contextmanager
def failing(engine: AsyncEngine, verb: str) -> Iterator[None]:
    """Every statement starting with ``verb`` fails before it reaches the database."""

    def fail(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.startswith(verb):
            raise ConnectionResetError("the database went away")

    event.listen(engine.sync_engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", fail)


async def test_a_failed_write_leaves_no_stale_cache_entry(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.set_data(USER, {"code": "100001"})
    await storage.set_state(USER, "Form:code")
    with failing(engine, "INSERT"), pytest.raises(ConnectionResetError):
        await storage.set_data(USER, {"code": "100002"})
    with failing(engine, "DELETE"), pytest.raises(ConnectionResetError):
        await storage.set_state(STACK, None)  # STACK was not cached: it must not be now
    with statements(engine) as seen:
        assert await storage.get_data(USER) == {"code": "100001"}  # the database's, read again
        assert await storage.get_state(USER) == "Form:code"
        assert await storage.get_state(STACK) is None
    assert seen == ["SELECT", "SELECT"]
    with failing(engine, "DELETE"), pytest.raises(ConnectionResetError):
        await storage.set_state(USER, None)
    assert await storage.get_state(USER) == "Form:code"


async def test_a_restart_finds_every_write_in_the_database(
    storage: SqlStorage, engine: AsyncEngine, clock: FixedClock
) -> None:
    await storage.set_state(USER, "Form:code")
    await storage.set_data(USER, {"code": "100001"})
    await storage.set_data(USER, {"code": "100001"})  # unchanged: skipped, still there
    await storage.set_data(STACK, {"intents": ["a1b2"]})
    await storage.set_data(OTHER, {"n": 1})
    assert await storage.get_data(OTHER) == {"n": 1}
    await storage.set_data(OTHER, {})
    await storage.set_state(STACK, "Form:code")
    await storage.set_state(STACK, None)

    restarted = SqlStorage(engine, clock=clock, ttl=TTL)
    with statements(engine) as seen:
        assert await restarted.get_state(USER) == "Form:code"
        assert await restarted.get_data(USER) == {"code": "100001"}
        assert await restarted.get_data(STACK) == {"intents": ["a1b2"]}
        assert await restarted.get_state(STACK) is None
        assert await restarted.get_data(OTHER) == {}
    assert seen == ["SELECT", "SELECT", "SELECT"]

    # A first write after a restart learns the other half from the database, not the cache.
    again = SqlStorage(engine, clock=clock, ttl=TTL)
    with statements(engine) as seen:
        await again.set_data(USER, {"code": "100002"})
        assert await again.get_state(USER) == "Form:code"
        await again.set_state(STACK, "Form:code")
        assert await again.get_data(STACK) == {"intents": ["a1b2"]}
    assert seen == ["INSERT", "DELETE", "INSERT"]  # DELETE: a new storage's first purge


async def test_overlapping_writes_and_reads_leave_the_cache_as_the_database(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.set_data(USER, {"n": -1})

    async def read() -> None:
        await storage.get_data(USER)

    async def write(n: int) -> None:
        await storage.set_data(USER, {"n": n} if n % 3 else {})

    await asyncio.gather(*(read() if n % 2 else write(n) for n in range(30)))
    stored = (await rows(engine)).get("fsm:7001:7001:default", (None, None))[1]
    assert await storage.get_data(USER) == (json.loads(stored) if stored else {})


def test_a_read_overlapping_a_write_is_not_cached() -> None:
    cache = RowCache(10)
    with cache.reading("k") as read_done:
        with cache.writing("k") as write_done:
            write_done(Row("new", None, T0))
        read_done(Row("old", None, T0))  # read before the write committed
    assert cache.get("k") == Row("new", None, T0)
    with cache.writing("k") as write_done:
        with cache.reading("k") as read_done:
            read_done(Row("either", None, T0))
        assert cache.settled("k") is None  # a write under way: no skipping on the old row
        write_done(Row("newer", None, T0))
    assert cache.get("k") == Row("newer", None, T0)


def test_overlapping_writes_of_a_key_leave_it_out_of_the_cache() -> None:
    cache = RowCache(10)
    cache_row = Row("a", None, T0)
    with cache.writing("k") as first_done:
        with cache.writing("k") as second_done:
            second_done(cache_row)
        assert "k" not in cache
        first_done(cache_row)
    assert "k" not in cache
    with cache.writing("k") as done:
        done(cache_row)
    assert cache.get("k") == cache_row
    with pytest.raises(asyncio.CancelledError), cache.writing("k"):
        raise asyncio.CancelledError
    assert "k" not in cache

"""The FSM storage in the bot's database (storage.fsm): aiogram's storage contract, the key
layout of RedisStorage with destinies, expiry with a fixed clock, and one statement per get and
per set. On a migrated SQLite file and, when TEST_DATABASE_URL is set, on PostgreSQL.
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

from storage.fsm import SqlStorage
from storage.models import FsmStateRow
from tests.support import emptied_engine
from workflows.clock import FixedClock

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TTL = timedelta(days=7)
PURGE_EVERY = timedelta(hours=1)
USER = StorageKey(bot_id=42, chat_id=7001, user_id=7001)
STACK = StorageKey(bot_id=42, chat_id=7001, user_id=7001, destiny="aiogd:stack:")


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
    await storage.set_data(STACK, {"intents": ["a1b2"]})  # past the first write's purge
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

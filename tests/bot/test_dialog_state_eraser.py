"""/forget's erasure of the dialog and FSM state: every key of the chat and user goes, in
memory, in the database storage (its cache included) and in Redis; nobody else's does."""

from __future__ import annotations

import os

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dialog_state import key_prefix, state_eraser
from storage.fsm import SqlStorage
from storage.models import FsmStateRow
from tests.support import delete_redis_keys, redis_key_prefix
from workflows.clock import FixedClock

BOT = 42
USER = 1001
OTHER = 10010  # starts like USER: a prefix must not take it along
DESTINIES = ("default", "aiogd:stack:", "aiogd:context:AbC123", "aiogd:context:x_%")


def key(user: int, destiny: str) -> StorageKey:
    return StorageKey(bot_id=BOT, chat_id=user, user_id=user, destiny=destiny)


async def fill(storage: object) -> None:
    for user in (USER, OTHER):
        for destiny in DESTINIES:
            await storage.set_state(key(user, destiny), "S:s")  # type: ignore[attr-defined]
            await storage.set_data(key(user, destiny), {"fin": "5ABC12D"})  # type: ignore[attr-defined]


async def left(storage: object, user: int) -> list[str]:
    return [
        destiny
        for destiny in DESTINIES
        if await storage.get_data(key(user, destiny))  # type: ignore[attr-defined]
        or await storage.get_state(key(user, destiny))  # type: ignore[attr-defined]
    ]


def test_the_prefix_ends_where_the_destiny_begins() -> None:
    builder = DefaultKeyBuilder(with_destiny=True)
    assert key_prefix(builder, BOT, USER, USER) == f"fsm:{USER}:{USER}:"
    with_bot = DefaultKeyBuilder(prefix="p", with_bot_id=True, with_destiny=True)
    assert key_prefix(with_bot, BOT, USER, USER) == f"p:{BOT}:{USER}:{USER}:"


async def test_memory_storage_forgets_the_pair_only() -> None:
    storage = MemoryStorage()
    await fill(storage)

    assert await state_eraser(storage)(BOT, USER, USER) == len(DESTINIES)

    assert await left(storage, USER) == []
    assert await left(storage, OTHER) == list(DESTINIES)


async def test_database_storage_forgets_the_pair_in_its_rows_and_its_cache(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    storage = SqlStorage(engine, clock=clock)
    await fill(storage)
    assert await left(storage, USER) == list(DESTINIES)  # now cached

    assert await state_eraser(storage)(BOT, USER, USER) == len(DESTINIES)

    assert await left(storage, USER) == []  # not served from the cache
    assert await left(SqlStorage(engine, clock=clock), OTHER) == list(DESTINIES)
    async with engine.connect() as conn:
        keys = list(await conn.scalars(select(FsmStateRow.key)))
    assert len(keys) == len(DESTINIES) and all(f":{OTHER}:{OTHER}:" in k for k in keys)


REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_redis_forgets_the_pair_only() -> None:
    assert REDIS_URL
    prefix = redis_key_prefix(REDIS_URL, "erase")
    storage = RedisStorage.from_url(
        REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix, with_destiny=True)
    )
    try:
        await fill(storage)

        assert await state_eraser(storage)(BOT, USER, USER) == 2 * len(DESTINIES)

        assert await left(storage, USER) == []
        assert await left(storage, OTHER) == list(DESTINIES)
    finally:
        await delete_redis_keys(storage.redis, prefix)
        await storage.close()

"""Shared dialog state (issue: production): with REDIS_URL a user's dialog continues on
whichever worker gets the next update, and survives a restart of every worker.

Runs when TEST_REDIS_URL is set (``.ci/run`` points it at the local server); skipped otherwise.
Every key goes under a prefix of this run's (the URL's db and the process), and only those
keys are deleted: another run on the same server is left alone.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_dispatcher, build_services
from bot.config import Settings
from tests.support import (
    ChatMessageManager,
    Subscriber,
    delete_redis_keys,
    make_bot,
    redis_key_prefix,
    seed_subscribers,
    subscriber_row,
)
from workflows.clock import FixedClock

REDIS_URL = os.environ.get("TEST_REDIS_URL")
PREFIX = redis_key_prefix(REDIS_URL, "dialogs") if REDIS_URL else ""
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set"),
]


def redis_storage() -> RedisStorage:
    assert REDIS_URL
    return RedisStorage.from_url(
        REDIS_URL, key_builder=DefaultKeyBuilder(prefix=PREFIX, with_destiny=True)
    )


@pytest.fixture
async def storages() -> AsyncIterator[list[RedisStorage]]:
    made: list[RedisStorage] = []
    first = redis_storage()
    assert await delete_redis_keys(first.redis, PREFIX) == 0  # a fresh prefix: nothing there
    made.append(first)
    yield made
    cleaner = redis_storage()
    deleted = await delete_redis_keys(cleaner.redis, PREFIX)
    for storage in [*made, cleaner]:
        await storage.close()
    assert deleted > 0, "the dialogs wrote no key under this run's prefix"


def worker(settings: Settings, engine: AsyncEngine, clock: FixedClock, storage: RedisStorage):
    services = build_services(settings, engine=engine, clock=clock)
    mm = ChatMessageManager()
    dp = build_dispatcher(settings, services, storage=storage, message_manager=mm)
    bot, _ = make_bot()
    return dp, bot, mm


async def test_journey_started_on_one_worker_finishes_on_another(
    settings: Settings, engine: AsyncEngine, clock: FixedClock, storages: list[RedisStorage]
) -> None:
    await seed_subscribers(engine, [subscriber_row("100001")])
    storages.append(redis_storage())
    dp_a, bot_a, mm_a = worker(settings, engine, clock, storages[0])
    dp_b, bot_b, mm_b = worker(settings, engine, clock, storages[1])
    on_a = Subscriber(dp_a, bot_a, mm_a, user_id=7001, language_code="en")
    on_b = Subscriber(dp_b, bot_b, mm_b, user_id=7001, language_code="en")

    await on_a.send("/start")
    await on_a.send("5ABC12D")
    window = await on_a.click("Create a new application")
    await on_a.send("100001")
    # The next updates land on worker B: it knows the dialog only through Redis.
    window = await on_b.click("Temporary absence", message=on_a.last)
    assert "Step 3 of 7" in window.text
    await on_b.send_contact("+994501234567")
    await on_b.send("user@example.com")
    await on_b.send("Going abroad for the summer")
    await on_b.click("Skip")
    # ... and the last one on A again, which saw none of B's steps.
    done = await on_a.click("^Continue$", message=on_b.last)
    assert "Your application number: 1" in done.text


async def test_restart_of_every_worker_keeps_the_dialog(
    settings: Settings, engine: AsyncEngine, clock: FixedClock, storages: list[RedisStorage]
) -> None:
    await seed_subscribers(engine, [subscriber_row("100001")])
    dp, bot, mm = worker(settings, engine, clock, storages[0])
    before = Subscriber(dp, bot, mm, user_id=7002, language_code="en")
    await before.send("/start")
    await before.send("5ABC12D")
    await before.click("Create a new application")
    await before.send("100001")
    await storages[0].close()

    storages.append(redis_storage())  # a new process: new connection, new dispatcher
    dp2, bot2, mm2 = worker(settings, engine, clock, storages[-1])
    after = Subscriber(dp2, bot2, mm2, user_id=7002, language_code="en")
    window = await after.click("Temporary absence", message=before.last)
    assert "Step 3 of 7" in window.text
    # The remembered FIN and the draft came back from Redis and the database.
    await after.send("+994 50 123 45 67")
    window = await after.send("user@example.com")
    assert "Step 5 of 7" in window.text

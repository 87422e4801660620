"""Where dialog state lives (bot.app.build_storage): Redis with REDIS_URL, else the bot's own
database, so a restart mid-form keeps the draft; memory only when FSM_STORAGE says so.

The restart here is in process: a dispatcher, its engine and its storage are built by the
real wiring on a SQLite file, thrown away, and built again on the same file.
(tests/e2e/test_e2e_restart.py kills and restarts a real ``python bot.py``.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import BlockingConnectionPool

from bot.app import Services, build_dispatcher, build_services, build_storage
from bot.config import SecretUrl, Settings
from storage.database import create_engine
from storage.fsm import SqlStorage
from tests.support import (
    ChatMessageManager,
    Subscriber,
    make_bot,
    seed_subscribers,
    subscriber_row,
)
from workflows.clock import FixedClock


async def test_the_default_without_redis_is_the_database(
    settings: Settings, clock: FixedClock
) -> None:
    services = build_services(settings, clock=clock)
    storage, isolation = build_storage(settings, services)
    assert isinstance(storage, SqlStorage)
    assert storage.engine is services.engine and storage.clock is clock
    assert storage.ttl == timedelta(days=7)
    assert isinstance(isolation, SimpleEventIsolation)
    await services.close()


async def test_the_ttl_and_memory_are_settings(settings: Settings) -> None:
    services = build_services(settings)
    days = settings.model_copy(update={"fsm_state_ttl_days": 1.5})
    storage, _ = build_storage(days, services)
    assert isinstance(storage, SqlStorage) and storage.ttl == timedelta(hours=36)
    memory = settings.model_copy(update={"fsm_storage": "memory"})
    assert isinstance(build_storage(memory, services)[0], MemoryStorage)
    await services.close()


async def test_redis_url_keeps_redis(settings: Settings) -> None:
    services = build_services(settings)
    with_redis = settings.model_copy(update={"redis_url": SecretUrl("redis://127.0.0.1:1/0")})
    storage, isolation = build_storage(with_redis, services)  # no connection until used
    assert isinstance(storage, RedisStorage) and isinstance(isolation, RedisEventIsolation)
    assert storage.key_builder.with_destiny
    # A pool that waits for a connection, sized from the in-flight limit.
    pool = storage.redis.connection_pool
    assert isinstance(pool, BlockingConnectionPool)
    assert pool.max_connections == 2 * settings.max_updates_in_flight
    assert pool.timeout == settings.redis_pool_timeout_s
    assert storage.state_ttl == storage.data_ttl == timedelta(days=settings.fsm_state_ttl_days)
    await storage.close()
    small = with_redis.model_copy(update={"redis_max_connections": 3})
    storage, _ = build_storage(small, services)
    assert storage.redis.connection_pool.max_connections == 3
    await storage.close()
    await services.close()


def worker(settings: Settings, clock: FixedClock) -> tuple[Subscriber, Services]:
    """One start of the bot: its engine, storage and dispatcher (the user 7003 chatting)."""
    services = build_services(
        settings, engine=create_engine(settings.database_url.get_secret_value()), clock=clock
    )
    storage, isolation = build_storage(settings, services)
    mm = ChatMessageManager()
    dp = build_dispatcher(
        settings, services, storage=storage, events_isolation=isolation, message_manager=mm
    )
    bot, _ = make_bot()
    return Subscriber(dp, bot, mm, user_id=7003, language_code="en"), services


@pytest.mark.parametrize(("backend", "kept"), [(None, True), ("memory", False)])
async def test_a_restart_mid_form_keeps_the_draft(
    settings: Settings, clock: FixedClock, backend: str | None, kept: bool
) -> None:
    settings = settings.model_copy(update={"fsm_storage": backend})
    before, services = worker(settings, clock)
    await seed_subscribers(services.engine, [subscriber_row("100001")])
    await before.send("/start")
    await before.send("5ABC12D")
    await before.click("Create a new application")
    await before.send("100001")
    reasons = before.last
    assert "Step 2 of 7" in reasons.text
    await services.close()

    after, services = worker(settings, clock)  # the next start, on the same database file
    window = await after.click("Temporary absence", message=reasons)
    if not kept:  # memory forgot the dialog: the old button leads nowhere
        assert "Step 3 of 7" not in (window.text or "")
        await services.close()
        return
    assert "Step 3 of 7" in window.text
    await after.send_contact("+994501234567")
    window = await after.send("user@example.com")
    assert "Step 5 of 7" in window.text
    await after.send("Going abroad for the summer")
    summary = await after.click("Skip")
    # typed before the restart: the subscriber code and the reason; after it: the rest
    assert "100001" in summary.text and "Temporary absence" in summary.text
    assert "user@example.com" in summary.text
    await services.close()

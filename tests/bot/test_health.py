"""/healthz reports the database and, with REDIS_URL, Redis; /metrics counts the outbox."""

from __future__ import annotations

import os

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_services
from bot.config import Settings
from bot.main import health_of, refresh_gauges, refresh_outbox_gauges
from bot.metrics import APPLICATIONS, EVENTS, OUTBOX
from storage.database import create_engine
from tests.support import draft, seed_subscribers, subscriber_row
from workflows.clock import FixedClock
from workflows.models import StaffMember


async def test_health_of_a_reachable_database(settings: Settings, engine: AsyncEngine) -> None:
    services = build_services(settings, engine=engine)
    assert await health_of(services, MemoryStorage()) == {"database": True}


async def test_health_of_an_unreachable_database(settings: Settings, tmp_path) -> None:
    missing = tmp_path / "no-such-dir" / "x" / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{missing}")
    missing.parent.rmdir()  # create_engine made the folder; take it away again
    services = build_services(settings, engine=engine)
    try:
        assert await health_of(services, MemoryStorage()) == {"database": False}
    finally:
        await engine.dispose()


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL is not set")
async def test_health_includes_redis(settings: Settings, engine: AsyncEngine) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage.from_url(
        os.environ["TEST_REDIS_URL"], key_builder=DefaultKeyBuilder(with_destiny=True)
    )
    try:
        services = build_services(settings, engine=engine)
        assert await health_of(services, storage) == {"database": True, "redis": True}
    finally:
        await storage.close()


async def test_outbox_gauges_follow_the_table(
    settings: Settings, engine: AsyncEngine, clock: FixedClock
) -> None:
    await seed_subscribers(engine, [subscriber_row("100001")])
    services = build_services(settings, engine=engine, clock=clock)
    await services.journey.submit(draft("100001", chat_id=1))
    await refresh_outbox_gauges(services.outbox_store)
    assert OUTBOX.labels("pending")._value.get() == 1  # the staff card
    assert OUTBOX.labels("sent")._value.get() == 0


async def test_application_gauges_count_every_status_and_event_kind(
    settings: Settings, engine: AsyncEngine, clock: FixedClock
) -> None:
    """Issue 19: /metrics shows the applications by status (withdrawn included) and the
    events of their timelines by kind, zeros too."""
    await seed_subscribers(engine, [subscriber_row("100001"), subscriber_row("100002")])
    services = build_services(settings, engine=engine, clock=clock)
    first = await services.journey.submit(draft("100001", chat_id=1))
    await services.journey.submit(draft("100002", chat_id=2))
    await services.work_orders.take(first, StaffMember(user_id=7, name="Rauf"))
    await refresh_gauges(services)
    assert APPLICATIONS.labels("registered")._value.get() == 1
    assert APPLICATIONS.labels("taken")._value.get() == 1
    assert APPLICATIONS.labels("withdrawn")._value.get() == 0
    assert EVENTS.labels("registered")._value.get() == 2
    assert EVENTS.labels("taken")._value.get() == 1
    assert EVENTS.labels("reopened")._value.get() == 0

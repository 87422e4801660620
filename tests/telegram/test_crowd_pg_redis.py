"""200 subscribers at once on the production shape: PostgreSQL and Redis (compose.yaml).

Dialog state in Redis through a connection pool of 4, far below the 64 updates allowed in
flight: an update that finds every connection busy waits for one (redis-py's default pool
failed with "Too many connections", and 37-68 of 200 users got no answer). Everybody
reaches their number, once. Runs when TEST_DATABASE_URL and TEST_REDIS_URL are set
(``.ci/run`` sets both).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder

from bot.app import build_services, build_storage
from bot.config import SecretUrl, Settings
from storage.database import create_engine
from tests.support import delete_redis_keys, migrated_pg_url, redis_key_prefix
from tests.telegram.faults import FaultyTelegram
from tests.telegram.load import faulted_journeys, load_registry

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
USERS = 200


async def test_200_users_at_once_on_postgresql_and_a_small_redis_pool(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set")
    database_url = await migrated_pg_url("crowd")
    crowd = settings.model_copy(
        update={
            "database_url": SecretUrl(database_url),
            "redis_url": SecretUrl(redis_url),
            "redis_max_connections": 4,
            "max_updates_in_flight": 64,
        }
    )
    engine = create_engine(database_url)
    storage, isolation = build_storage(crowd, build_services(crowd, engine=engine))
    prefix = redis_key_prefix(redis_url, "crowd")
    storage.key_builder = DefaultKeyBuilder(prefix=prefix, with_destiny=True)
    pool = storage.redis.connection_pool
    assert pool.max_connections == 4 < crowd.max_updates_in_flight
    caplog.set_level(logging.WARNING)
    try:
        await load_registry(engine, USERS, tmp_path)
        outcome = await faulted_journeys(
            crowd,
            engine,
            FaultyTelegram(0.0, seed=1),
            users=USERS,
            storage=storage,
            isolation=isolation,
        )
    finally:
        await delete_redis_keys(storage.redis, prefix)
        await storage.close()
        await engine.dispose()

    assert outcome.reached == USERS, outcome.failures[:5]
    assert set(outcome.applications_by_user.values()) == {1}
    assert outcome.pending == 0
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Too many connections" not in logged
    assert "storage error" not in logged

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings
from storage.database import create_engine
from storage.migrate import upgrade_to_head
from storage.models import (
    ApplicationRow,
    ChatMigrationRow,
    EventRow,
    OutboxRow,
    SubscriberRow,
    UserRow,
)
from tests.outbox.harness import Harness, RecordingMailer, make_harness
from tests.support import isolated_pg_url

_PG_READY: set[str] = set()
# Children first; the reason catalogue stays (the migration seeds it).
_TABLES = (OutboxRow, EventRow, ApplicationRow, ChatMigrationRow, SubscriberRow, UserRow)


@pytest.fixture(scope="module")
def catalogues() -> I18n:
    """The product's own catalogues (az, ru, en), as the bot loads them."""
    compile_catalogues()
    return I18n(path=LOCALES_DIR, default_locale="az", domain="messages")


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
async def h(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, mailer: RecordingMailer
) -> Harness:
    return await make_harness(settings, engine, tmp_path, mailer=mailer)


@pytest.fixture
async def pg_engine() -> AsyncIterator[AsyncEngine]:
    """PostgreSQL from TEST_DATABASE_URL, migrated and emptied; skipped when unset."""
    url = isolated_pg_url("outbox")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    if url not in _PG_READY:
        await asyncio.to_thread(upgrade_to_head, url)
        _PG_READY.add(url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        for row in _TABLES:
            await conn.execute(delete(row))
    yield engine
    await engine.dispose()

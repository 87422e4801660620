from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot, Dispatcher
from aiogram_dialog.test_tools import MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Services, build_dispatcher, build_services
from bot.config import Settings
from tests.support import (
    ChatMessageManager,
    RecordingSession,
    Subscriber,
    make_bot,
    seed_subscribers,
    subscriber_row,
)
from workflows.clock import FixedClock

FIN = "5ABC12D"
OTHER_FIN = "7XYZ89K"


@dataclass
class World:
    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    mm: MockMessageManager
    services: Services

    def subscriber(self, user_id: int = 1001, language_code: str | None = "az") -> Subscriber:
        return Subscriber(self.dp, self.bot, self.mm, user_id, language_code)


@pytest.fixture
async def world(
    settings: Settings, engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[World]:
    await seed_subscribers(
        engine,
        [
            subscriber_row("100001"),
            subscriber_row("100002", state="suspended"),
            subscriber_row("100003", debt="12.50"),
            subscriber_row("100004", meterless=False),
            subscriber_row("100005", owner_fin=OTHER_FIN),
            subscriber_row("100006", owner_fin=FIN),
        ],
    )
    services = build_services(settings, engine=engine, clock=clock)
    mm = ChatMessageManager()
    dp = build_dispatcher(settings, services, storage=JsonMemoryStorage(), message_manager=mm)
    bot, session = make_bot()
    yield World(dp=dp, bot=bot, session=session, mm=mm, services=services)

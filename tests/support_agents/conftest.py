"""The bot as the lead wires it: the support router among the extra routers, before the
subscriber dialogs; agents on the allow-list and in the support chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_dispatcher, build_services
from bot.config import Settings
from tests.support import ChatMessageManager, seed_subscribers, subscriber_row
from tests.support_agents.agents import (
    AGENT_ID,
    SUPPORT_CHAT_ID,
    AgentSession,
    World,
)
from workflows.clock import FixedClock


@pytest.fixture
def agent_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"support_user_ids": [AGENT_ID], "support_chat_id": SUPPORT_CHAT_ID}
    )


@pytest.fixture
async def world(
    agent_settings: Settings,
    engine: AsyncEngine,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    await seed_subscribers(
        engine,
        [subscriber_row(str(code)) for code in range(100001, 100061) if code != 100002]
        + [subscriber_row("100002", state="suspended", address="Bakı ş., <Yasamal> & Co")],
    )
    services = build_services(agent_settings, engine=engine, clock=clock)
    mm = ChatMessageManager()
    dp = build_dispatcher(
        agent_settings, services, storage=JsonMemoryStorage(), message_manager=mm
    )
    session = AgentSession()
    tg = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield World(
        dp=dp,
        bot=tg,
        session=session,
        services=services,
        settings=agent_settings,
        clock=clock,
        engine=engine,
        mm=mm,
    )

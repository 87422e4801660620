"""The billing system is down (issue: production, "The billing API"): the user hears "try
again in a few minutes" in their language, stays on the step with the draft kept, and
nothing is ever registered without the debt check. When billing answers again, "Davam et"
registers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage

from bot.app import build_dispatcher, build_services
from storage.database import create_session_factory
from storage.registry import SqlSubscriberRegistry
from tests.dialogs.helpers import (
    FIN,
    STATES,
    World,
    applications,
    current,
    fill_to,
    hint,
    press,
)
from tests.support import (
    ChatMessageManager,
    make_bot,
    seed_subscribers,
    subscriber_row,
)
from workflows.errors import RegistryUnavailable
from workflows.models import Subscriber


class FlakyRegistry:
    """The embedded registry behind a switch that makes it time out like a dead billing API."""

    def __init__(self, inner: SqlSubscriberRegistry) -> None:
        self.inner = inner
        self.down = False

    async def lookup(self, code: str) -> Subscriber | None:
        if self.down:
            raise RegistryUnavailable(code)
        return await self.inner.lookup(code)


@pytest.fixture
async def outage(settings, engine, clock) -> AsyncIterator[tuple[World, FlakyRegistry]]:
    await seed_subscribers(engine, [subscriber_row("100001", owner_fin=FIN)])
    registry = FlakyRegistry(SqlSubscriberRegistry(create_session_factory(engine)))
    services = build_services(settings, engine=engine, clock=clock, registry=registry)
    mm = ChatMessageManager()
    dp = build_dispatcher(settings, services, storage=JsonMemoryStorage(), message_manager=mm)
    bot, session = make_bot()
    yield World(dp=dp, bot=bot, session=session, mm=mm, services=services), registry


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
async def test_billing_down_at_the_code_step_keeps_the_user_there(outage, locale) -> None:
    world, registry = outage
    user = world.subscriber(language_code=locale)
    await fill_to(user, "code")
    registry.down = True
    message = await user.send("100001")
    assert hint("registry.down", locale) in message.text
    assert (await current(user))[0] == STATES["code"]
    registry.down = False
    await user.send("100001")
    assert (await current(user))[0] == STATES["reason"]


async def test_billing_down_on_continue_keeps_the_draft_and_registers_nothing(
    outage, engine
) -> None:
    world, registry = outage
    user = world.subscriber(language_code="az")
    await fill_to(user, "summary", email="keep@example.com")
    registry.down = True
    message = await press(user, "confirm")
    assert hint("registry.down", "az") in message.text
    state, draft = await current(user)
    assert state == STATES["summary"]
    assert draft["email"] == "keep@example.com" and draft["code"] == "100001"
    assert await applications(engine) == []
    registry.down = False
    await press(user, "confirm")
    state, data = await current(user)
    assert state == STATES["registered"] and data["number"] == 1

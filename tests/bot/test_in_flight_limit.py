"""A burst of updates: at most MAX_UPDATES_IN_FLIGHT in the handlers, none lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Chat, Message, Update, User

from bot.middlewares import InFlightLimit


def _update(n: int) -> Update:
    user = User(id=1000 + n, is_bot=False, first_name="U")
    message = Message(
        message_id=n,
        date=datetime(2026, 11, 27, tzinfo=UTC),
        chat=Chat(id=user.id, type="private"),
        from_user=user,
        text=f"message {n}",
    )
    return Update(update_id=n, message=message)


async def test_a_burst_of_users_waits_its_turn_and_every_update_is_handled() -> None:
    dp = Dispatcher()
    dp.update.outer_middleware(InFlightLimit(3))
    inside, most, handled = 0, 0, []
    release = asyncio.Event()

    @dp.message()
    async def slow(message: Message) -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await release.wait()
        inside -= 1
        handled.append(message.message_id)

    bot = Bot("42:TEST")
    tasks = [asyncio.create_task(dp.feed_update(bot, _update(n))) for n in range(20)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert inside == 3  # three handlers run, seventeen updates wait before them
    release.set()
    await asyncio.gather(*tasks)
    await bot.session.close()

    assert most == 3
    assert sorted(handled) == list(range(20))


def test_the_limit_comes_from_the_settings() -> None:
    from bot.app import build_dispatcher, build_services
    from bot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL="sqlite+aiosqlite:///:memory:", MAX_UPDATES_IN_FLIGHT=7, _env_file=None
    )
    services = build_services(settings)
    dp = build_dispatcher(settings, services)
    limits = [m for m in dp.update.outer_middleware if isinstance(m, InFlightLimit)]
    assert [m.limit for m in limits] == [7]
    asyncio.run(services.engine.dispose())


class CountingStorage(MemoryStorage):
    """Memory storage that counts the reads in progress at once, each a little slow."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.most = 0
        self.release = asyncio.Event()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        self.inside += 1
        self.most = max(self.most, self.inside)
        await self.release.wait()
        self.inside -= 1
        return await super().get_data(key)


async def test_the_limit_comes_before_any_storage_access() -> None:
    """A burst of 30 updates with a limit of 3: never more than 3 storage reads at once
    (the Redis pool of production is sized from the limit, so it cannot be exhausted)."""
    from bot.app import build_dispatcher, build_services
    from bot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL="sqlite+aiosqlite:///:memory:", MAX_UPDATES_IN_FLIGHT=3, _env_file=None
    )
    services = build_services(settings)
    storage = CountingStorage()
    dp = build_dispatcher(settings, services, storage=storage)
    assert isinstance(dp.update.outer_middleware[0], InFlightLimit)
    bot = Bot("42:TEST")
    tasks = [asyncio.create_task(dp.feed_update(bot, _update(n))) for n in range(30)]
    for _ in range(50):
        await asyncio.sleep(0)
    assert storage.inside == 3
    storage.release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await bot.session.close()
    await services.engine.dispose()

    assert storage.most == 3

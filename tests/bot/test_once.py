"""Every update once (issue 17, item 3): an update delivered again, to the webhook, to a
polling worker or to a second worker, is acknowledged and answered once; the record is Redis
when dialog state is there (TEST_REDIS_URL), else the bot's database.

Workers here are built by the real wiring (``bot.app``: services, storage, the record and
the dispatcher) with a bot whose session records the Bot API calls offline; "one answer" is
one sendMessage to the subscriber for their /start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, Update, User
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Services, build_dispatcher, build_seen_updates, build_services, build_storage
from bot.config import SecretUrl, Settings
from bot.errors import StorageErrorGuard
from bot.main import run_polling
from bot.metrics import DUPLICATE_UPDATES
from bot.middlewares import InFlightLimit
from bot.once import OnceOnly, RedisSeenUpdates
from bot.throttle import Throttle
from bot.webhook import WEBHOOK_PATH, WebhookServer
from storage.seen_updates import SqlSeenUpdates
from tests.support import RecordingSession
from workflows.clock import FixedClock

SECRET = "webhook-secret"
USER = 7007
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
BACKENDS = [
    "database",
    pytest.param(
        "redis", marks=pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
    ),
]


def start_update(update_id: int, user_id: int = USER) -> Update:
    user = User(id=user_id, is_bot=False, first_name="A", language_code="en")
    message = Message(
        message_id=update_id,
        date=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=user,
        text="/start",
    )
    return Update(update_id=update_id, message=message)


@dataclass
class Worker:
    """One worker as ``bot.main.run`` builds it, on the shared database (and Redis)."""

    bot: Bot
    session: RecordingSession
    dp: Dispatcher
    services: Services
    storage: BaseStorage

    def answers(self, chat_id: int = USER) -> int:
        return sum(1 for m in self.session.of("SendMessage") if m.chat_id == chat_id)

    async def close(self) -> None:
        await self.storage.close()
        await self.services.close()


async def build_worker(settings: Settings, clock: FixedClock, token: str) -> Worker:
    services = build_services(settings, clock=clock)  # an engine of its own
    storage, isolation = build_storage(settings, services)
    dp = build_dispatcher(
        settings,
        services,
        storage=storage,
        events_isolation=isolation,
        seen_updates=build_seen_updates(settings, services, storage),
    )
    session = RecordingSession()
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    return Worker(bot, session, dp, services, storage)


@pytest.fixture(params=BACKENDS)
async def workers(
    request: pytest.FixtureRequest, settings: Settings, clock: FixedClock
) -> AsyncIterator[list[Worker]]:
    """Two workers on one database (and, for "redis", one Redis), with a bot id of their
    own per test so the shared Redis holds nothing of another run."""
    bot_id = 10**9 + secrets.randbelow(10**9)
    if request.param == "redis":
        settings = settings.model_copy(update={"redis_url": SecretUrl(REDIS_URL)})
    built = [await build_worker(settings, clock, f"{bot_id}:TEST") for _ in range(2)]
    try:
        yield built
    finally:
        if isinstance(built[0].storage, RedisStorage):
            redis = built[0].storage.redis
            keys = [key async for key in redis.scan_iter(match=f"*:{bot_id}:*")]
            if keys:
                await redis.delete(*keys)
        for worker in built:
            await worker.close()


def duplicates() -> float:
    return DUPLICATE_UPDATES._value.get()


async def test_the_record_follows_the_dialog_state(workers: list[Worker]) -> None:
    once = [m for m in workers[0].dp.update.outer_middleware if isinstance(m, OnceOnly)]
    assert len(once) == 1
    expected = RedisSeenUpdates if isinstance(workers[0].storage, RedisStorage) else SqlSeenUpdates
    assert isinstance(once[0].seen, expected)
    if isinstance(once[0].seen, RedisSeenUpdates):
        # the FSM storage's client, so its pool
        assert once[0].seen.redis is workers[0].storage.redis  # type: ignore[attr-defined]
    # after the in-flight limit and the throttle, before the storage guard and aiogram's own
    kinds = [type(m) for m in workers[0].dp.update.outer_middleware][:4]
    assert kinds == [InFlightLimit, Throttle, OnceOnly, StorageErrorGuard]


async def test_the_same_webhook_update_posted_twice_gets_one_answer(
    workers: list[Worker],
) -> None:
    worker = workers[0]
    server = WebhookServer(worker.dp, worker.bot, SECRET)
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.listener.port}{WEBHOOK_PATH}"
    body = start_update(501).model_dump(mode="json", exclude_none=True)
    before = duplicates()
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.post(
                    url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as r:
                    assert r.status == 200  # the copy is acknowledged like the first
    finally:
        await server.stop()  # lets both deliveries finish
    assert worker.answers() == 1
    assert duplicates() == before + 1
    # a new update of the same subscriber is answered as usual
    await worker.dp.feed_update(worker.bot, start_update(502))
    assert worker.answers() == 2


async def test_two_workers_receiving_one_update_answer_once(workers: list[Worker]) -> None:
    servers = [WebhookServer(w.dp, w.bot, SECRET) for w in workers]
    for server in servers:
        await server.start("127.0.0.1", 0)
    body = start_update(601).model_dump(mode="json", exclude_none=True)
    try:
        async with aiohttp.ClientSession() as http:

            async def deliver(server: WebhookServer) -> int:
                async with http.post(
                    f"http://127.0.0.1:{server.listener.port}{WEBHOOK_PATH}",
                    json=body,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as r:
                    return r.status

            assert await asyncio.gather(*(deliver(s) for s in servers)) == [200, 200]
    finally:
        for server in servers:
            await server.stop()
    assert [w.answers() for w in workers] in ([1, 0], [0, 1])


async def test_two_dispatchers_fed_one_update_at_once_answer_once(
    workers: list[Worker],
) -> None:
    update = start_update(701)
    await asyncio.gather(*(w.dp.feed_update(w.bot, update) for w in workers))
    assert sum(w.answers() for w in workers) == 1


class RedeliveringSession(RecordingSession):
    """getUpdates as a Telegram that did not take the confirmation: the same batch twice,
    then nothing (the third call stops the worker once the updates it handed out are
    handled: stopping closes the dialog storage, Redis's connections with it)."""

    def __init__(
        self, batch: list[Update], stop: asyncio.Event, pending: Callable[[], set[Any]]
    ) -> None:
        super().__init__()
        self.batches = [batch, batch]
        self.stop = stop
        self.pending = pending

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if isinstance(method, GetUpdates):
            if self.batches:
                return self.batches.pop(0)  # type: ignore[return-value]
            if handling := set(self.pending()):
                await asyncio.wait(handling)
            self.stop.set()
            await asyncio.Event().wait()  # a long poll, until the worker stops
        return await super().make_request(bot, method, timeout)


async def test_the_same_update_polled_twice_gets_one_answer(workers: list[Worker]) -> None:
    worker = workers[0]
    stop = asyncio.Event()
    session = RedeliveringSession(
        [start_update(801), start_update(802, USER + 1)],
        stop,
        pending=lambda: worker.dp._handle_update_tasks,
    )
    worker.bot.session = session
    worker.session = session
    before = duplicates()
    await run_polling(worker.bot, worker.dp, stop)
    pending = worker.dp._handle_update_tasks  # polling handles each update in a task
    while pending:
        await asyncio.wait(set(pending))
    assert worker.answers(USER) == 1
    assert worker.answers(USER + 1) == 1
    assert duplicates() == before + 2


# --- the middleware alone: what a failure does ---------------------------------------------


def plain_update(update_id: int) -> Update:
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=datetime(2026, 11, 27, tzinfo=UTC),
            chat=Chat(id=1, type="private"),
            text="x",
        ),
    )


def dispatcher_with(seen: Any, handler: Callable[[Message], Awaitable[None]]) -> Dispatcher:
    router = Router()
    router.message.register(handler)
    dp = Dispatcher()
    dp.update.outer_middleware(OnceOnly(seen))
    dp.include_router(router)
    return dp


async def test_a_copy_of_an_update_that_failed_is_not_handled_again(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    """The claim stays: Telegram resends only when it missed the answer, never because a
    handler failed, and a handler that failed halfway may have stored something."""
    calls: list[int] = []

    async def fails(message: Message) -> None:
        calls.append(message.message_id)
        raise RuntimeError("boom")

    seen = SqlSeenUpdates(engine, ttl=timedelta(hours=1), clock=clock)
    dp = dispatcher_with(seen, fails)
    bot = Bot("42:TEST", session=RecordingSession())
    with pytest.raises(RuntimeError):
        await dp.feed_update(bot, plain_update(1))
    await dp.feed_update(bot, plain_update(1))
    assert calls == [1]


class BrokenRecord:
    async def first_sight(self, bot_id: int, update_id: int) -> bool:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("down"))


async def test_when_the_record_fails_the_update_is_handled_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def handler(message: Message) -> None:
        calls.append(message.message_id)

    dp = dispatcher_with(BrokenRecord(), handler)
    bot = Bot("42:TEST", session=RecordingSession())
    with caplog.at_level(logging.WARNING, logger="bot.once"):
        await dp.feed_update(bot, plain_update(3))
    assert calls == [3]
    assert "update 3: the record of seen updates failed (OperationalError)" in caplog.text


async def test_zero_hours_turns_the_check_off(settings: Settings) -> None:
    off = settings.model_copy(update={"seen_updates_ttl_hours": 0})
    services = build_services(off)
    storage, isolation = build_storage(off, services)
    try:
        assert build_seen_updates(off, services, storage) is None
        dp = build_dispatcher(off, services, storage=storage, events_isolation=isolation)
        assert not any(isinstance(m, OnceOnly) for m in dp.update.outer_middleware)
    finally:
        await services.close()

"""With REDIS_URL (issue 16, item 4): the probing counters and the throttle's windows are
in Redis, so every worker counts the same; the keys expire by themselves.

Runs when TEST_REDIS_URL is set; skipped otherwise. Every key goes under this run's prefix
and only those keys are deleted.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Chat, Message, Update, User
from aiogram.utils.i18n import I18n

from bot.adapters.redis_probes import TTL_S, RedisProbeCounters
from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.probing import redis_prefix
from bot.throttle import Throttle, throttle_windows
from tests.support import delete_redis_keys, redis_key_prefix
from workflows.clock import SystemClock
from workflows.probing import ProbeKind, value_hash

REDIS_URL = os.environ.get("TEST_REDIS_URL")
PREFIX = redis_key_prefix(REDIS_URL, "probes") if REDIS_URL else ""
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set"),
]
DAY, NEXT = "2026-12-07", "2026-12-08"
ALICE, BOB = 501, 502
A, B = value_hash("100001"), value_hash("100002")


@pytest.fixture
async def storage() -> AsyncIterator[RedisStorage]:
    assert REDIS_URL
    storage = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(prefix=PREFIX))
    assert await delete_redis_keys(storage.redis, PREFIX) == 0
    yield storage
    await delete_redis_keys(storage.redis, PREFIX)
    await storage.close()


@pytest.fixture
def counters(storage: RedisStorage) -> RedisProbeCounters:
    return RedisProbeCounters(storage.redis, prefix=f"{redis_prefix(storage)}:probe")


async def test_an_accounts_values_and_a_codes_accounts(counters: RedisProbeCounters) -> None:
    await counters.add(DAY, ALICE, ProbeKind.CODE, A)
    await counters.add(DAY, ALICE, ProbeKind.CODE, B)
    await counters.add(DAY, ALICE, ProbeKind.CODE, A)
    await counters.add(DAY, ALICE, ProbeKind.FIN, B)
    await counters.add(DAY, BOB, ProbeKind.CODE, A)
    await counters.add(NEXT, ALICE, ProbeKind.CODE, B)
    assert await counters.tried(DAY, ALICE, ProbeKind.CODE) == {A, B}
    assert await counters.tried(DAY, ALICE, ProbeKind.FIN) == {B}
    assert await counters.tried(DAY, BOB, ProbeKind.FIN) == frozenset()
    assert await counters.accounts(DAY, A) == 2
    assert await counters.accounts(DAY, B) == 1  # the FIN with the same hash is no code
    assert await counters.accounts(NEXT, B) == 1


async def test_the_warning_is_given_once_a_day_and_every_key_expires(
    counters: RedisProbeCounters, storage: RedisStorage
) -> None:
    await counters.add(DAY, ALICE, ProbeKind.CODE, A)
    assert await counters.first_warning(DAY, A) is True
    assert await counters.first_warning(DAY, A) is False
    assert await counters.first_warning(NEXT, A) is True
    await counters.purge(NEXT)  # nothing to do: the keys expire
    keys = [key async for key in storage.redis.scan_iter(match=f"{PREFIX}:probe:*")]
    assert len(keys) == 4  # Alice's codes, the code's accounts, two warnings
    for key in keys:
        assert 0 < await storage.redis.ttl(key) <= TTL_S
    assert all(b"100001" not in key for key in keys)


def _message(n: int, user_id: int) -> Update:
    user = User(id=user_id, is_bot=False, first_name="U", language_code="en")
    message = Message(
        message_id=n,
        date=datetime(2026, 12, 7, tzinfo=UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=user,
        text="/start",
    )
    return Update(update_id=n, message=message)


class SilentBot:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.sent.append(text)


async def test_two_workers_share_one_users_window(storage: RedisStorage) -> None:
    compile_catalogues()
    i18n = I18n(path=LOCALES_DIR, default_locale="az", domain="messages")
    prefix = f"{redis_prefix(storage)}:throttle"
    workers = [
        Throttle(
            throttle_windows(storage, SystemClock(), prefix=prefix),
            updates=3,
            window_s=60,
            i18n=i18n,
            default_locale="az",
        )
        for _ in range(2)
    ]
    handled: list[int] = []
    bot = SilentBot()

    async def handler(event: Any, data: dict[str, Any]) -> None:
        handled.append(event.update_id)

    for n in range(1, 9):  # alternately on each worker
        await workers[n % 2](handler, _message(n, 9001), {"bot": bot})
    await workers[0](handler, _message(9, 9002), {"bot": bot})  # another user: own window
    assert handled == [1, 2, 3, 9]
    assert len(bot.sent) == 1  # one "too fast" answer for the five dropped
    keys = [key async for key in storage.redis.scan_iter(match=f"{PREFIX}:throttle:*")]
    assert keys
    for key in keys:
        assert 0 < await storage.redis.ttl(key) <= 60

"""Scenario: the dialog state store (Redis, the database) fails while a subscriber types.

Never silence: the subscriber is told in their language to try again, and the log names
the update and the exception's type, never what was typed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Chat, Message, Update, User
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from bot.app import build_dispatcher, build_i18n, build_services
from bot.config import Settings
from bot.errors import TRY_AGAIN
from tests.support import make_bot

SECRET_TEXT = "5ABC12D my secret words"


class BrokenStorage(MemoryStorage):
    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raise self.exc


def _update(language: str) -> Update:
    user = User(id=4242, is_bot=False, first_name="U", language_code=language)
    message = Message(
        message_id=7,
        date=datetime(2026, 12, 7, tzinfo=UTC),
        chat=Chat(id=user.id, type="private"),
        from_user=user,
        text=SECRET_TEXT,
    )
    return Update(update_id=991, message=message)


@pytest.mark.parametrize(
    "exc",
    [
        RedisConnectionError("Too many connections"),
        OperationalError("SELECT 1", {"fin": "5ABC12D"}, Exception("database is locked")),
    ],
    ids=["redis", "database"],
)
async def test_a_storage_error_is_answered_with_try_again_in_the_users_language(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL="sqlite+aiosqlite:///:memory:", _env_file=None
    )
    services = build_services(settings)
    i18n = build_i18n(settings)
    dp = build_dispatcher(settings, services, storage=BrokenStorage(exc), i18n=i18n)
    bot, session = make_bot()
    caplog.set_level(logging.INFO)

    await dp.feed_update(bot, _update("ru"))
    await services.engine.dispose()

    [sent] = session.of("SendMessage")
    assert sent.chat_id == 4242
    assert sent.text == i18n.gettext(TRY_AGAIN, locale="ru")
    assert sent.text != TRY_AGAIN  # the Russian catalogue has it
    [record] = [r for r in caplog.records if "storage error" in r.getMessage()]
    assert "991" in record.getMessage()
    assert type(exc).__name__ in record.getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "5ABC12D" not in logged
    assert "secret" not in logged

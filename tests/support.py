"""Test doubles shared by the tests: a Bot session that answers like Telegram offline,
a subscriber's chat driven through the real dispatcher, and database helpers."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    KeyboardButton,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    Sticker,
    Update,
    User,
)
from aiogram_dialog.test_tools import MockMessageManager
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import SubscriberRow

BOT_USER = User(id=42, is_bot=True, first_name="Azərsu", username="azersu_test_bot")


class RecordingSession(BaseSession):
    """Records every Bot API request and answers like Telegram would, without a network."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(1000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        name = type(method).__name__
        if name in {"SendMessage", "EditMessageText"}:
            chat_id = getattr(method, "chat_id", 0) or 0
            result = Message(
                message_id=getattr(method, "message_id", None) or next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(chat_id), type="private" if int(chat_id) > 0 else "supergroup"),
                from_user=BOT_USER,
                text=re.sub(r"<[^>]+>", "", method.text),
                reply_markup=getattr(method, "reply_markup", None),
            )
            return result  # type: ignore[return-value]
        if name == "GetMe":
            return BOT_USER  # type: ignore[return-value]
        return True  # type: ignore[return-value]

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""

    def of(self, method_name: str) -> list[Any]:
        return [r for r in self.requests if type(r).__name__ == method_name]


def make_bot() -> tuple[Bot, RecordingSession]:
    from aiogram.client.default import DefaultBotProperties
    from aiogram.enums import ParseMode

    session = RecordingSession()
    bot = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    return bot, session


class ChatMessageManager(MockMessageManager):
    """MockMessageManager that also keeps reply keyboards (a Message cannot hold one)."""

    def __init__(self) -> None:
        super().__init__()
        self.reply_keyboards: dict[int, ReplyKeyboardMarkup] = {}

    async def show_message(self, bot: Bot, new_message: Any, old_message: Any) -> Any:
        markup = new_message.reply_markup
        if isinstance(markup, ReplyKeyboardMarkup):
            new_message = dataclasses.replace(new_message, reply_markup=None)
            result = await super().show_message(bot, new_message, old_message)
            self.reply_keyboards[result.message_id] = markup
            return dataclasses.replace(result, has_reply_keyboard=True)
        return await super().show_message(bot, new_message, old_message)


class Subscriber:
    """One Telegram user chatting with the bot in private, through the real dispatcher."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        mm: MockMessageManager,
        user_id: int = 1001,
        language_code: str | None = "az",
    ) -> None:
        self.dp, self.bot, self.mm = dp, bot, mm
        self.user = User(
            id=user_id, is_bot=False, first_name=f"User{user_id}", language_code=language_code
        )
        self.chat = Chat(id=user_id, type="private")

    def _message(self, **kwargs: Any) -> Message:
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **kwargs,
        )

    async def _feed(self, **kwargs: Any) -> Any:
        return await self.dp.feed_update(
            self.bot, Update(update_id=next(self._update_ids), **kwargs)
        )

    async def send(self, text: str) -> Message:
        self.mm.reset_history()
        await self._feed(message=self._message(text=text))
        return self.last

    async def send_contact(self, phone: str, *, own: bool = True) -> Message:
        self.mm.reset_history()
        contact = Contact(
            phone_number=phone,
            first_name="X",
            user_id=self.user.id if own else self.user.id + 1,
        )
        await self._feed(message=self._message(contact=contact))
        return self.last

    async def send_sticker(self) -> Message:
        self.mm.reset_history()
        sticker = Sticker(
            file_id="s1",
            file_unique_id="s1",
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
        )
        await self._feed(message=self._message(sticker=sticker))
        return self.last

    async def send_photo(self) -> Message:
        self.mm.reset_history()
        photo = [PhotoSize(file_id="p1", file_unique_id="p1", width=10, height=10)]
        await self._feed(message=self._message(photo=photo))
        return self.last

    async def click(self, text: str, message: Message | None = None) -> Message:
        """Press the inline button whose text matches ``text`` (a regex) on the last window."""
        message = message or self.last
        button = find_button(message, text)
        if isinstance(button, KeyboardButton):
            return await self.send(button.text)
        self.mm.reset_history()
        callback = CallbackQuery(
            id=str(next(self._update_ids)),
            data=button.callback_data,
            chat_instance="c",
            from_user=self.user,
            message=message,
        )
        await self._feed(callback_query=callback)
        return self.last if self.mm.sent_messages else message

    @property
    def last(self) -> Message:
        assert self.mm.sent_messages, "the bot showed nothing"
        message = self.mm.last_message()
        keyboards = getattr(self.mm, "reply_keyboards", {})
        if message.message_id in keyboards:
            _REPLY_KEYBOARDS[id(message)] = keyboards[message.message_id]
        return message


_REPLY_KEYBOARDS: dict[int, ReplyKeyboardMarkup] = {}


def buttons(message: Message) -> list[Any]:
    markup = message.reply_markup or _REPLY_KEYBOARDS.get(id(message))
    if markup is None:
        return []
    rows = markup.keyboard if isinstance(markup, ReplyKeyboardMarkup) else markup.inline_keyboard
    return [b for row in rows for b in row]


def button_texts(message: Message) -> list[str]:
    from aiogram_dialog.utils import split_reply_callback

    return [split_reply_callback(b.text)[0] for b in buttons(message)]


def find_button(message: Message, text: str) -> Any:
    from aiogram_dialog.utils import split_reply_callback

    pattern = re.compile(text)
    for button in buttons(message):
        visible = split_reply_callback(button.text)[0]
        if pattern.search(visible):
            return button
    raise AssertionError(f"no button {text!r} in {button_texts(message)}")


async def seed_subscribers(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(SubscriberRow), rows)


def subscriber_row(
    code: str,
    *,
    meterless: bool = True,
    debt: str = "0",
    state: str = "active",
    owner_fin: str | None = None,
    address: str = "Bakı ş., Nəsimi r., Azadlıq pr. 12",
) -> dict[str, Any]:
    return {
        "code": code,
        "meterless": meterless,
        "debt_azn": Decimal(debt),
        "service_state": state,
        "owner_fin": owner_fin,
        "address": address,
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=str, ensure_ascii=False)


_PG_DATABASES: dict[str, str] = {}


def isolated_pg_url(name: str) -> str | None:
    """A database of its own, ``test_<name>``, on the TEST_DATABASE_URL server (created anew
    once per test process), so test modules never see each other's tables; None if unset."""
    import asyncio
    import os
    import threading

    import asyncpg
    from sqlalchemy.engine import make_url

    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    if name in _PG_DATABASES:
        return _PG_DATABASES[name]
    url = make_url(base)
    database = f"test_{name}"

    async def recreate() -> None:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()

    # Callers may be inside a running event loop: do the admin work on a thread of its own.
    errors: list[BaseException] = []

    def work() -> None:
        try:
            asyncio.run(recreate())
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    _PG_DATABASES[name] = url.set(database=database).render_as_string(hide_password=False)
    return _PG_DATABASES[name]


async def migrated_pg_url(name: str) -> str:
    """``isolated_pg_url(name)`` migrated to head; skips the test when TEST_DATABASE_URL is unset."""
    import asyncio

    import pytest

    from storage.migrate import upgrade_to_head

    url = isolated_pg_url(name)
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    await asyncio.to_thread(upgrade_to_head, url)  # Alembic's env.py runs a loop of its own
    return url


@asynccontextmanager
async def emptied_engine(
    backend: str, db_url: str, name: str, row: type[Any]
) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated SQLite file ``db_url`` or, for ``backend`` "postgresql", on
    the database ``test_<name>`` (the test skips without TEST_DATABASE_URL); ``row``'s table
    emptied first, disposed of at the end."""
    from sqlalchemy import delete

    from storage.database import create_engine

    postgres = backend == "postgresql"
    engine = create_engine(await migrated_pg_url(name) if postgres else db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(row))
        yield engine
    finally:
        await engine.dispose()

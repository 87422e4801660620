"""Test doubles shared by the tests: a Bot session that answers like Telegram offline,
a subscriber's chat driven through the real dispatcher, and database helpers."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import itertools
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetChatMember, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberAdministrator,
    ChatMemberRestricted,
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
from pydantic import TypeAdapter
from sqlalchemy import insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import SubscriberRow
from workflows.models import Draft

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


DRAFT_FIN = "5ABC12D"


def subscriber_row(
    code: str,
    *,
    meterless: bool = True,
    debt: str = "0",
    state: str = "active",
    owner_fin: str | None = DRAFT_FIN,
    address: str = "Bakı ş., Nəsimi r., Azadlıq pr. 12",
    phone: str | None = None,
) -> dict[str, Any]:
    """A registry row; by default its owner FIN is the one :func:`draft` types, so typing it
    is enough to apply (``owner_fin=None``: a code that needs the phone on record)."""
    return {
        "code": code,
        "meterless": meterless,
        "debt_azn": Decimal(debt),
        "service_state": state,
        "owner_fin": owner_fin,
        "address": address,
        "phone": phone,
    }


# --- getChatMember --------------------------------------------------------------------------
# Telegram's statuses: "creator", "administrator", "member", "restricted" (with ``is_member``:
# a restricted user may still be in the chat, or not any more), "left" and "kicked".
CHAT_MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


def chat_member_json(
    user_id: int, status: str, *, is_member: bool | None = None
) -> dict[str, Any]:
    """The ``ChatMember`` object Telegram answers to getChatMember, as JSON (every field
    the status's type requires, rights all off)."""
    assert status in CHAT_MEMBER_STATUSES, status
    assert (is_member is not None) == (status == "restricted"), "is_member is restricted's"
    data: dict[str, Any] = {
        "status": status,
        "user": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
    }
    if status == "restricted":
        rights = [name for name in ChatMemberRestricted.model_fields if name.startswith("can_")]
        data |= dict.fromkeys(rights, False) | {"is_member": is_member, "until_date": 0}
    elif status == "administrator":
        rights = [name for name in ChatMemberAdministrator.model_fields if name.startswith("can_")]
        data |= dict.fromkeys(rights, False) | {"is_anonymous": False}
    elif status == "creator":
        data["is_anonymous"] = False
    elif status == "kicked":
        data["until_date"] = 0
    return data


def chat_member(user_id: int, status: str, *, is_member: bool | None = None) -> Any:
    """The same as the aiogram object the bot gets back."""
    returning = GetChatMember.__returning__  # the union of the ChatMember types
    return TypeAdapter(returning).validate_python(
        chat_member_json(user_id, status, is_member=is_member)
    )


# --- waiting ---------------------------------------------------------------------------------
# Tests wait for things that happen in other tasks or processes, never for a fixed time: a
# limit only stops a test that would hang, so it is generous (a loaded CI machine is slow).
GENEROUS_S = 30.0


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, what: str, limit_s: float = GENEROUS_S
) -> None:
    """Return as soon as ``check()`` is true (looking again every 10 ms); fail after
    ``limit_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"still waiting for {what} after {limit_s:.0f} s")
        await asyncio.sleep(0.01)


# --- logs ----------------------------------------------------------------------------------
_LOG_FORMAT = logging.Formatter("%(levelname)s %(name)s: %(message)s")


def logged_above_debug(records: list[logging.LogRecord]) -> list[str]:
    """Each record above DEBUG as a handler would write it: message, traceback and stack."""
    return [_LOG_FORMAT.format(r) for r in records if r.levelno > logging.DEBUG]


def assert_no_personal_data(records: list[logging.LogRecord], *secrets: str) -> None:
    """No FIN, phone or e-mail (``secrets``) in any record above DEBUG (DESIGN.md, "Data")."""
    assert secrets
    leaks = [
        f"{secret!r} in: {text}"
        for text in logged_above_debug(records)
        for secret in secrets
        if secret in text
    ]
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks)


def draft(code: str, chat_id: int = 1001, **changes: Any) -> Draft:
    """A filled-in application form for subscriber ``code``, sent from chat ``chat_id``."""
    values: dict[str, Any] = {
        "fin": DRAFT_FIN,
        "subscriber_code": code,
        "reason_code": "absence",
        "phone": "+994501234567",
        "email": "a@example.com",
        "description": "d",
        "notes": None,
        "locale": "az",
        "telegram_user_id": chat_id,
        "chat_id": chat_id,
    }
    return Draft(**(values | changes))


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=str, ensure_ascii=False)


# --- PostgreSQL and Redis, shared with other runs -----------------------------------------
# Two runs of the suite may use one server (two engineers, two CI jobs): every database and
# every Redis key a run makes is named from the configured URL's database and this process
# (plus a random part), and a run drops or deletes only what it made itself.


def run_scoped_name(url_database: str | None, purpose: str) -> str:
    """``<the URL's database>_<purpose>_<pid>_<random>``: this run's, no one else's (at most
    63 characters, PostgreSQL's limit for a name)."""
    base = re.sub(r"\W+", "_", url_database or "test")[:20]
    return f"{base}_{purpose[:16]}_{os.getpid()}_{secrets.token_hex(3)}"


_PG_DATABASES: dict[str, str] = {}


async def _pg_admin(url: URL, statement: str) -> None:
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _pg_execute(url: URL, statement: str) -> None:
    """Run an admin statement on a thread of its own (callers may be inside a running
    event loop)."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            asyncio.run(_pg_admin(url, statement))
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def isolated_pg_url(name: str) -> str | None:
    """A database of its own for ``name`` on the TEST_DATABASE_URL server, created once per
    test process (see :func:`run_scoped_name`) and dropped at its end by
    :func:`drop_isolated_pg_databases`; None if TEST_DATABASE_URL is unset."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    if name in _PG_DATABASES:
        return _PG_DATABASES[name]
    url = make_url(base)
    database = run_scoped_name(url.database, name)
    _pg_execute(url, f'CREATE DATABASE "{database}"')
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


def drop_isolated_pg_databases() -> list[str]:
    """Drop the databases :func:`isolated_pg_url` created in this process (and only those);
    returns their names. FORCE ends this run's own connections still open to them."""
    dropped = []
    for name, made in list(_PG_DATABASES.items()):
        url = make_url(made)
        server = url.set(database=make_url(os.environ["TEST_DATABASE_URL"]).database)
        _pg_execute(server, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        del _PG_DATABASES[name]
        dropped.append(str(url.database))
    return dropped


def redis_key_prefix(redis_url: str, purpose: str) -> str:
    """The prefix of every Redis key this run's ``purpose`` writes (db of the URL + pid)."""
    database = make_url(redis_url).database or "0"
    return run_scoped_name(f"redis{database}", purpose)


async def delete_redis_keys(redis: Any, prefix: str) -> int:
    """Delete the keys under ``prefix:`` (this run's), and nothing else; returns how many."""
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])
    return len(keys)


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

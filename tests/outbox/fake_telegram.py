"""An in-process fake of the Bot API for the outbox and staff tests.

It keeps chats and messages, answers like Telegram (message ids per chat, "message is not
modified", "message to edit not found", 403 for blocked users, 400 with
``migrate_to_chat_id`` for an upgraded group, "message is too long"), and fails on purpose
when a test arms a :class:`Failure` (429 with ``retry_after``, 500, a timeout, 403). Every
answer goes through aiogram's own ``check_response``, so the bot sees the exact exception
types aiogram raises against the real API. Each request is logged with the time of the
injected clock, so tests can check the rate limits on the timestamps.

Also here: :class:`VirtualClock` (the clock, monotonic time and sleep of one virtual
timeline) and :func:`test_i18n` (small catalogues, independent of the real ones).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from tests.support import chat_member_json
from workflows.clock import FixedClock

BOT = {"id": 42, "is_bot": True, "first_name": "Azərsu", "username": "azersu_test_bot"}
SENDS = {"SendMessage", "EditMessageText", "EditMessageReplyMarkup"}
_TAGS = re.compile(r"<[^>]+>")


class VirtualClock(FixedClock):
    """One virtual timeline: ``now()`` for the domain, ``monotonic()`` and ``sleep()``."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at)
        self.epoch = at

    def monotonic(self) -> float:
        return (self.at - self.epoch).total_seconds()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


@dataclass
class Failure:
    """Fail the next ``times`` matching requests with ``kind``."""

    kind: str  # "429", "500", "timeout", "403", "400"
    method: str | None = "SendMessage"
    chat_id: int | None = None
    times: int = 1
    retry_after: int = 5
    description: str = ""

    def matches(self, name: str, chat_id: int | None) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method != name:
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class Request:
    at: float
    name: str
    chat_id: int | None
    ok: bool
    method: Any
    error: str = ""

    @property
    def text(self) -> str:
        return getattr(self.method, "text", None) or ""


@dataclass
class Chat:
    id: int
    type: str
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    migrated_to: int | None = None


def visible(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


class FakeTelegram(BaseSession):
    def __init__(self, now: Callable[[], float] = lambda: 0.0) -> None:
        super().__init__()
        self.now = now
        self.chats: dict[int, Chat] = {}
        self.blocked: set[int] = set()
        self.members: set[int] = set()  # "member" of every group
        self.statuses: dict[int, tuple[str, bool | None]] = {}  # any other status, by user
        self.failures: list[Failure] = []
        self.log: list[Request] = []

    # --- set-up -------------------------------------------------------------------------
    def group(self, chat_id: int, type_: str = "supergroup") -> Chat:
        return self.chats.setdefault(chat_id, Chat(chat_id, type_))

    def migrate(self, old: int, new: int) -> None:
        self.group(old, "group").migrated_to = new
        self.group(new, "supergroup")

    def set_status(self, user_id: int, status: str, *, is_member: bool | None = None) -> None:
        """What getChatMember answers for ``user_id`` from now on (``members`` aside)."""
        self.members.discard(user_id)
        if status == "member":
            self.statuses.pop(user_id, None)
            self.members.add(user_id)
        else:
            self.statuses[user_id] = (status, is_member)

    def fail(self, kind: str, **kwargs: Any) -> Failure:
        failure = Failure(kind, **kwargs)
        self.failures.append(failure)
        return failure

    # --- queries --------------------------------------------------------------------------
    def ok(self, name: str | None = None, chat_id: int | None = None) -> list[Request]:
        return [
            r
            for r in self.log
            if r.ok
            and (name is None or r.name == name)
            and (chat_id is None or r.chat_id == chat_id)
        ]

    def sent(self, chat_id: int | None = None) -> list[Request]:
        return self.ok("SendMessage", chat_id)

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        chat = self.chats.get(chat_id)
        return list(chat.messages.values()) if chat else []

    def message(self, chat_id: int, message_id: int, bot: Bot) -> Message:
        data = {k: v for k, v in self.chats[chat_id].messages[message_id].items() if k != "html"}
        return Message.model_validate(data, context={"bot": bot})

    def answers(self) -> list[Any]:
        return [r.method for r in self.ok("AnswerCallbackQuery")]

    # --- the API ----------------------------------------------------------------------------
    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = type(method).__name__
        raw_chat = getattr(method, "chat_id", None)
        chat_id = int(raw_chat) if raw_chat is not None else None
        at = self.now()
        status, payload = self._answer(name, chat_id, method)
        ok = status == 200
        error = "" if ok else str(payload.get("description", ""))
        self.log.append(Request(at, name, chat_id, ok, method, error))
        if status == 0:
            raise TelegramNetworkError(method=method, message="Request timeout error")
        response = self.check_response(bot, method, status, json.dumps(payload))
        return response.result  # type: ignore[return-value]

    def _answer(self, name: str, chat_id: int | None, method: Any) -> tuple[int, dict[str, Any]]:
        for failure in self.failures:
            if failure.matches(name, chat_id):
                failure.times -= 1
                return self._failure(failure)
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return 200, {"ok": True, "result": True}
        try:
            return 200, {"ok": True, "result": handler(chat_id, method)}
        except _ApiError as exc:
            return exc.status, exc.payload

    @staticmethod
    def _failure(failure: Failure) -> tuple[int, dict[str, Any]]:
        if failure.kind == "429":
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {failure.retry_after}",
                "parameters": {"retry_after": failure.retry_after},
            }
        if failure.kind == "500":
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if failure.kind == "timeout":
            return 0, {"ok": False, "description": "timeout"}
        if failure.kind == "403":
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": failure.description or "Forbidden: bot was blocked by the user",
            }
        return 400, {
            "ok": False,
            "error_code": 400,
            "description": failure.description or "Bad Request: something is wrong",
        }

    def _chat(self, chat_id: int | None, *, sending: bool = True) -> Chat:
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if chat_id > 0:
            if sending and chat_id in self.blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            return self.chats.setdefault(chat_id, Chat(chat_id, "private"))
        chat = self.chats.get(chat_id)
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    @staticmethod
    def _markup(method: Any) -> dict[str, Any] | None:
        markup = getattr(method, "reply_markup", None)
        if markup is None or not hasattr(markup, "inline_keyboard"):
            return None
        return markup.model_dump(mode="json", exclude_none=True)

    @staticmethod
    def _check_text(text: str) -> None:
        if len(visible(text).encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")

    def _SendMessage(self, chat_id: int | None, method: Any) -> dict[str, Any]:  # noqa: N802
        chat = self._chat(chat_id)
        self._check_text(method.text)
        data: dict[str, Any] = {
            "message_id": next(chat.ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat.id, "type": chat.type},
            "from": BOT,
            "text": visible(method.text),
            "html": method.text,
        }
        reply = getattr(method, "reply_parameters", None)
        if reply is not None and reply.message_id in chat.messages:
            original = dict(chat.messages[reply.message_id])
            original.pop("reply_to_message", None)
            original.pop("html", None)
            data["reply_to_message"] = original
        markup = self._markup(method)
        if markup is not None:
            data["reply_markup"] = markup
        chat.messages[data["message_id"]] = data
        return {k: v for k, v in data.items() if k != "html"}

    def _editable(self, chat_id: int | None, method: Any) -> dict[str, Any]:
        chat = self._chat(chat_id)
        data = chat.messages.get(method.message_id)
        if data is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return data

    def _EditMessageText(self, chat_id: int | None, method: Any) -> dict[str, Any]:  # noqa: N802
        data = self._editable(chat_id, method)
        self._check_text(method.text)
        markup = self._markup(method)
        if data["html"] == method.text and data.get("reply_markup") == markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of "
                "the message",
            )
        data["html"] = method.text
        data["text"] = visible(method.text)
        data["edit_date"] = int(datetime.now(UTC).timestamp())
        if markup is None:
            data.pop("reply_markup", None)
        else:
            data["reply_markup"] = markup
        return {k: v for k, v in data.items() if k != "html"}

    def _EditMessageReplyMarkup(self, chat_id: int | None, method: Any) -> dict[str, Any]:  # noqa: N802
        data = self._editable(chat_id, method)
        markup = self._markup(method)
        if data.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        if markup is None:
            data.pop("reply_markup", None)
        else:
            data["reply_markup"] = markup
        return {k: v for k, v in data.items() if k != "html"}

    def _GetMe(self, chat_id: int | None, method: Any) -> dict[str, Any]:  # noqa: N802
        return BOT

    def _GetChatMember(self, chat_id: int | None, method: Any) -> dict[str, Any]:  # noqa: N802
        self._chat(chat_id, sending=False)
        user_id = method.user_id
        if user_id in self.members:
            return chat_member_json(user_id, "member")
        status, is_member = self.statuses.get(user_id, ("left", None))
        return chat_member_json(user_id, status, is_member=is_member)

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.payload: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": description,
        }
        if parameters:
            self.payload["parameters"] = parameters


def fake_bot(now: Callable[[], float] = lambda: 0.0) -> tuple[Bot, FakeTelegram]:
    session = FakeTelegram(now)
    bot = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    return bot, session


# --- catalogues --------------------------------------------------------------------------

# A few translations, enough to see that each text is rendered in the right language.
TRANSLATIONS = {
    "ru": {
        "Application No. {number} has been completed": "Заявка № {number} выполнена",
        "Application No. {number} has been rejected": "Заявка № {number} отклонена",
        "Dear subscriber,": "Уважаемый абонент,",
        "✅ Your application No. {number} has been completed.": "✅ Ваша заявка № {number} выполнена.",
        "❌ Your application No. {number} has been rejected.": "❌ Ваша заявка № {number} отклонена.",
        "🛠 Your application No. {number} has been taken into work.": "🛠 Ваша заявка № {number} принята в работу.",
        "Result:": "Результат:",
        "Reason for rejection:": "Причина отказа:",
        "Note from the crew:": "Примечание бригады:",
        "Check the application's status": "Проверить статус заявки",
    },
    "az": {
        "Application No. {number} has been completed": "Müraciət № {number} icra olundu",
        "Application No. {number} has been rejected": "Müraciət № {number} rədd edildi",
        "Dear subscriber,": "Hörmətli abunəçi,",
        "Check the application's status": "Müraciətin statusunu yoxla",
    },
    "en": {},
}


def make_i18n(directory: Path) -> I18n:
    """An I18n over small catalogues written to ``directory`` (az default, ru, en)."""
    for locale, entries in TRANSLATIONS.items():
        folder = directory / locale / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=locale)
        for msgid, msgstr in entries.items():
            catalog.add(msgid, msgstr)
        with (folder / "messages.po").open("wb") as f:
            write_po(f, catalog)
        with (folder / "messages.mo").open("wb") as f:
            write_mo(f, catalog)
    return I18n(path=directory, default_locale="az", domain="messages")

"""Telegram without a network: a Bot session that answers like the Bot API.

``FakeTelegram`` is the session of the journey benchmark. It answers every request the
aiogram-dialog message manager makes (``sendMessage``, ``editMessageText``,
``editMessageReplyMarkup``, ``deleteMessage``, ``answerCallbackQuery``, ``getMe``) with the
object Telegram would return, and keeps only the *current window* of each chat (the last
message sent or edited there), which is what a simulated user reads to find its buttons.
Like Telegram, the text it gives back is the plain text (the HTML tags removed), so the
dialog manager cannot skip an edit by comparing texts, exactly as in production.

The answers are built as aiogram objects directly, not as JSON passed through
``check_response``: that parsing is aiogram's cost, the same for every bot, and would only
dilute the ratio to the floor. ``LimitedTelegram`` (the outbox benchmark) does go through
``check_response``, because there the 429 answers and their ``retry_after`` are the point.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, User

BOT_USER = User(id=42, is_bot=True, first_name="Azərsu", username="azersu_bench_bot")
_TAGS = re.compile(r"<[^>]+>")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


def plain(text: str) -> str:
    """What Telegram echoes back for an HTML text: the tags gone, the entities decoded."""
    return html.unescape(_TAGS.sub("", text))


@dataclass(slots=True)
class Shown:
    """The current window of a chat: the bot's last message there."""

    message: Message
    markup: Markup


class FakeTelegram(BaseSession):
    """Answers the Bot API calls of a dialog bot; keeps each chat's current window."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: dict[int, Shown] = {}
        self.calls = 0
        self._message_ids = itertools.count(1_000_000)
        self._now = datetime.now(UTC)

    def _message(self, chat_id: int, message_id: int, text: str, markup: Markup) -> Message:
        chat = Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup")
        return Message(
            message_id=message_id,
            date=self._now,
            chat=chat,
            from_user=BOT_USER,
            text=plain(text),
            reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
        )

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.calls += 1
        if isinstance(method, SendMessage):
            chat_id = int(method.chat_id)
            message = self._message(chat_id, next(self._message_ids), method.text, None)
            markup = method.reply_markup
            if isinstance(markup, InlineKeyboardMarkup | ReplyKeyboardMarkup):
                self.shown[chat_id] = Shown(message, markup)
            else:
                self.shown[chat_id] = Shown(message, None)
            return message  # type: ignore[return-value]
        if isinstance(method, EditMessageText):
            chat_id = int(method.chat_id or 0)
            message = self._message(
                chat_id, method.message_id or 0, method.text, method.reply_markup
            )
            self.shown[chat_id] = Shown(message, method.reply_markup)
            return message  # type: ignore[return-value]
        if isinstance(method, EditMessageReplyMarkup):
            chat_id = int(method.chat_id or 0)
            current = self.shown.get(chat_id)
            if current is not None and current.message.message_id == method.message_id:
                current.markup = method.reply_markup
            return True  # type: ignore[return-value]
        if isinstance(method, DeleteMessage | AnswerCallbackQuery):
            return True  # type: ignore[return-value]
        if isinstance(method, GetMe):
            return BOT_USER  # type: ignore[return-value]
        return True  # type: ignore[return-value]

    def forget(self, chat_id: int) -> None:
        """Drop a chat's window (a parked user keeps no state in the benchmark itself)."""
        self.shown.pop(chat_id, None)

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


# --- the rate-limited Bot API of the outbox benchmark -----------------------------------------


class _Window:
    """At most ``limit`` accepted messages in any ``period`` seconds (a sliding log)."""

    __slots__ = ("limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque()

    def retry_after(self, now: float) -> float:
        while self.times and now - self.times[0] >= self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.period - now


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's documented broadcast limits, optionally ``scale``d up (faster)."""

    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    global_per_second: float = 30.0

    def scaled(self, factor: float) -> Limits:
        return Limits(
            self.per_chat_per_second * factor,
            self.per_group_per_minute * factor,
            self.global_per_second * factor,
        )


def _window(per_period: float, period: float) -> tuple[int, float]:
    """``per_period`` per ``period`` s as a whole count in a (possibly longer) window."""
    limit = max(1, int(per_period))
    return limit, period * limit / per_period


class LimitedTelegram(BaseSession):
    """A Bot API that refuses with 429 and ``retry_after`` past Telegram's limits.

    Limits are sliding windows over the *accepted* messages: per chat, per group (negative
    chat ids) and overall. A refused request is not counted. Every answer is Telegram's JSON
    passed through aiogram's own ``check_response``, so the client sees exactly the
    exception (``TelegramRetryAfter``) and result types it would see in production.
    """

    def __init__(self, limits: Limits, *, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.limits = limits
        self.now = now
        self._chat = _window(limits.per_chat_per_second, 1.0)
        self._group = _window(limits.per_group_per_minute, 60.0)
        self._global = _Window(*_window(limits.global_per_second, 1.0))
        self._chats: dict[int, _Window] = {}
        self._groups: dict[int, _Window] = {}
        self._message_ids = itertools.count(1)
        self.accepted = 0
        self.accepted_by_chat: dict[int, int] = {}
        self.accepted_at: list[float] = []
        self.group_accepted_at: list[float] = []
        self.refused = 0
        self.refused_by: dict[str, int] = {}
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.on_accept: Callable[[int], None] | None = None

    def _windows(self, chat_id: int) -> list[_Window]:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Window(*self._chat)
        windows = [chat, self._global]
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None:
                group = self._groups[chat_id] = _Window(*self._group)
            windows.append(group)
        return windows

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if isinstance(method, GetMe):
            payload: dict[str, Any] = {"ok": True, "result": BOT_USER.model_dump()}
            return self.check_response(bot, method, 200, json.dumps(payload)).result
        if not isinstance(method, SendMessage):
            raise AssertionError(f"the outbox benchmark does not expect {type(method).__name__}")
        chat_id = int(method.chat_id)
        now = self.now()
        windows = self._windows(chat_id)
        waits = [window.retry_after(now) for window in windows]
        wait = max(waits)
        if wait > 0:
            self.refused += 1
            which = ("chat", "global", "group")[waits.index(wait)]
            key = f"{which} window, {'group' if chat_id < 0 else 'private'} chat"
            self.refused_by[key] = self.refused_by.get(key, 0) + 1
            retry_after = max(1, int(wait + 0.999))
            payload = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
            # raises TelegramRetryAfter
            return self.check_response(bot, method, 429, json.dumps(payload)).result
        for window in windows:
            window.times.append(now)
        self.accepted += 1
        self.accepted_by_chat[chat_id] = self.accepted_by_chat.get(chat_id, 0) + 1
        self.accepted_at.append(now)
        if chat_id < 0:
            self.group_accepted_at.append(now)
        self.first_at = now if self.first_at is None else self.first_at
        self.last_at = now
        result = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER.model_dump(exclude_none=True),
            "text": plain(method.text),
        }
        answer = self.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
        if self.on_accept is not None:
            self.on_accept(self.accepted)
        return answer.result  # type: ignore[return-value]

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""

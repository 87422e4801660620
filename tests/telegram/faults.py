"""Telegram's failures, raised exactly as aiogram raises them against the real Bot API.

:func:`raise_fault` makes one failed answer: 429 with ``retry_after`` and 500 as Telegram's
JSON through aiogram's own ``check_response``; a read timeout and a connection reset as
aiogram's aiohttp session reports them (``TelegramNetworkError`` raised from the
``TimeoutError`` or from aiohttp's ``ClientOSError``). In every case the request was not
applied: the fake fails before it answers.

:class:`FaultyTelegram` is the journey benchmark's fake Bot API (:class:`bench.fakes.
FakeTelegram`, which the simulated users of :mod:`bench.users` read their windows from)
failing a share of all calls, in every chat. Whether a call fails is drawn from the seed,
the chat and the call's position in that chat, so a run does not depend on how the
concurrent users interleave.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import AsyncGenerator, Callable
from typing import Any, NoReturn

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message

from bench.fakes import FakeTelegram

KINDS = ("429", "500", "timeout", "reset")
BAD_REQUESTS = {
    "not modified": "Bad Request: message is not modified: specified new message content and "
    "reply markup are exactly the same as a current content and reply markup of the message",
    "not found": "Bad Request: message to delete not found",
    "400": "Bad Request: chat not found",
}


def _answer(session: BaseSession, bot: Bot, method: Any, status: int, payload: Any) -> NoReturn:
    session.check_response(bot, method, status, json.dumps(payload))
    raise AssertionError(f"check_response accepted a {status}")


def raise_fault(
    session: BaseSession, bot: Bot, method: TelegramMethod[Any], kind: str, *, retry_after: int = 1
) -> NoReturn:
    """Fail ``method`` the way Telegram (or the network on the way) does; ``kind`` is one of
    :data:`KINDS` (``"429:7"``: with ``retry_after=7``) or of :data:`BAD_REQUESTS`."""
    kind, _, after = kind.partition(":")
    retry_after = int(after) if after else retry_after
    if kind == "429":
        _answer(
            session,
            bot,
            method,
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            },
        )
    if kind == "500":
        payload = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        _answer(session, bot, method, 500, payload)
    if kind in BAD_REQUESTS:
        payload = {"ok": False, "error_code": 400, "description": BAD_REQUESTS[kind]}
        _answer(session, bot, method, 400, payload)
    if kind == "timeout":
        raise TelegramNetworkError(method=method, message="Request timeout error") from (
            TimeoutError()
        )
    if kind == "reset":
        cause = aiohttp.ClientOSError(104, "Connection reset by peer")
        raise TelegramNetworkError(method=method, message=f"ClientOSError: {cause}") from cause
    raise ValueError(kind)


class FaultyTelegram(FakeTelegram):
    """The benchmark's fake Bot API; ``rate`` of all calls fail (a kind from :data:`KINDS`)."""

    def __init__(
        self,
        rate: float,
        *,
        seed: int = 1,
        retry_after: int = 1,
        refuse: Callable[[TelegramMethod[Any]], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.rate = rate
        self.refuse = refuse  # a kind of failure for every call it names, on top of ``rate``
        self.seed = seed
        self.retry_after = retry_after
        self.faults: Counter[str] = Counter()  # by kind
        self.faulted: Counter[object] = Counter()  # by chat (or press, for its answer)
        self.sent: dict[int, list[Message]] = {}  # every message that reached a chat
        self._positions: Counter[object] = Counter()

    def _fault(self, method: TelegramMethod[Any]) -> str | None:
        if self.refuse is not None and (kind := self.refuse(method)) is not None:
            return kind
        where = getattr(method, "chat_id", None) or getattr(method, "callback_query_id", None)
        self._positions[where] += 1
        draw = random.Random(f"{self.seed}:{where}:{self._positions[where]}")
        if draw.random() >= self.rate:
            return None
        self.faulted[where] += 1
        return draw.choice(KINDS)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        kind = self._fault(method)
        if kind is not None:
            self.faults[kind] += 1
            raise_fault(self, bot, method, kind, retry_after=self.retry_after)
        result = await super().make_request(bot, method, timeout)
        if isinstance(method, SendMessage):
            self.sent.setdefault(int(method.chat_id), []).append(result)  # type: ignore[arg-type]
        return result


class ScriptedTelegram(BaseSession):
    """A Bot API whose next answers to a method are scripted: ``sendMessage=["500", "ok"]``.

    Past the script every request succeeds. ``"lost"`` applies the request and then loses
    the answer (a read timeout after Telegram did the work). ``applied`` lists the requests
    Telegram carried out, ``requests`` every request made.
    """

    def __init__(self, **script: list[str]) -> None:
        super().__init__()
        self.script = {name: list(kinds) for name, kinds in script.items()}
        self.requests: list[TelegramMethod[Any]] = []
        self.applied: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(100)

    def names(self) -> list[str]:
        return [method.__api_method__ for method in self.requests]

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        queue = self.script.get(method.__api_method__)
        kind = queue.pop(0) if queue else "ok"
        if kind not in ("ok", "lost"):
            raise_fault(self, bot, method, kind)
        self.applied.append(method)
        if kind == "lost":
            raise_fault(self, bot, method, "timeout")
        result: Any = True
        if isinstance(method, SendMessage | EditMessageText):
            chat_id = int(method.chat_id or 0)
            result = {
                "message_id": getattr(method, "message_id", None) or next(self._ids),
                "date": 0,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "text": method.text,
            }
        payload = json.dumps({"ok": True, "result": result})
        return self.check_response(bot, method, 200, payload).result  # type: ignore[return-value]

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


def bot_on(session: BaseSession) -> Bot:
    """The bot as the product configures it (HTML by default), on ``session``."""
    return Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))

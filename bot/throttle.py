"""The per-user update throttle: a flood from one account stops before any handler.

:class:`Throttle` is an outer update middleware (after ``InFlightLimit``, before the record
of seen updates and the storage guard, so a dropped update costs neither a database round
trip nor a dialog-state read). Each sender may have ``THROTTLE_UPDATES`` updates handled in
any ``THROTTLE_WINDOW_S`` seconds, a moving window (``bot.windows``); over it the first
update is answered "too many messages at once" (a callback query through its own answer, a
message in a private chat by a message), and again only once that answer has left the
window; every other is dropped without a word, and none reaches a handler.

The sender is the Telegram user; a message sent on behalf of a chat (an anonymous group
admin, a linked channel) counts for that chat, since every anonymous admin of every group
writes as the same user. The staff group and the support agents have the same limit as
anyone: 20 updates in 10 seconds is more than a person presses.

Where the windows live (``build_throttle``): in this worker's memory by default (no round
trip per update; each worker counts alone, so behind a load balancer that spreads one
user's updates over n workers a user gets up to n times the limit), or in Redis when dialog
state is there, shared by every worker (one round trip per update, two for a dropped one).
If Redis fails the update is handled anyway (the storage it needs next answers for itself).
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage as RedisFsmStorage
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from bot.config import Settings
from bot.errors import STORAGE_ERRORS
from bot.metrics import THROTTLED_UPDATES
from bot.middlewares import Data, Handler
from bot.probing import redis_prefix
from bot.windows import MemoryWindows, RedisWindows, Windows
from dialogs.wording import N_
from workflows.ports import Clock

logger = logging.getLogger(__name__)

TOO_FAST = N_("Too many messages at once. Please wait a moment and try again.")
KEY_PREFIX = "throttle"


def sender_of(update: Update) -> str | None:
    """Whose window an update counts in: ``c<chat id>`` for a message sent on behalf of a
    chat, else ``u<user id>``; None for an update without a sender (a channel post)."""
    message = update.message or update.edited_message
    if message is not None and message.sender_chat is not None:
        return f"c{message.sender_chat.id}"
    user = UserContextMiddleware.resolve_event_context(update).user
    return f"u{user.id}" if user is not None else None


class Throttle(BaseMiddleware):
    """At most ``updates`` updates per sender in any ``window_s`` seconds reach the handlers."""

    def __init__(
        self,
        windows: Windows,
        *,
        updates: int,
        window_s: int,
        i18n: I18n,
        default_locale: str,
    ) -> None:
        if updates < 1 or window_s < 1:
            raise ValueError("updates and window_s must be at least 1")
        self.windows = windows
        self.updates = updates
        self.window_s = window_s
        self.i18n = i18n
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        if not isinstance(event, Update):  # registered on updates only
            return await handler(event, data)
        sender = sender_of(event)
        if sender is None or await self._hit(f"u:{sender}", self.updates, event):
            return await handler(event, data)
        THROTTLED_UPDATES.inc()
        if await self._hit(f"a:{sender}", 1, event):  # one answer per window
            logger.info("update %s: %s is sending too fast; dropped", event.update_id, sender)
            await self._answer(event, data["bot"])
        return UNHANDLED

    async def _hit(self, key: str, limit: int, update: Update) -> bool:
        try:
            return await self.windows.hit(key, limit, self.window_s)
        except (*STORAGE_ERRORS, StorageError) as exc:
            logger.warning(
                "update %s: the throttle's store failed (%s); handled without the check",
                update.update_id,
                type(exc).__name__,
            )
            return True

    def _locale(self, user: User | None) -> str:
        # No profile read for a dropped update: Telegram's language, else the default.
        code = (user.language_code or "").split("-")[0].lower() if user else ""
        return code if code in self.i18n.available_locales else self.default_locale

    async def _answer(self, update: Update, bot: Bot) -> None:
        message, callback = update.message, update.callback_query
        user = message.from_user if message else callback.from_user if callback else None
        text = self.i18n.gettext(TOO_FAST, locale=self._locale(user))
        try:
            if callback is not None:
                await bot.answer_callback_query(callback.id, text)
            elif message is not None and message.chat.type == ChatType.PRIVATE:
                await bot.send_message(message.chat.id, text)
        except TelegramAPIError as exc:
            logger.warning("update %s: the too-fast answer failed: %s", update.update_id, exc)


def throttle_windows(storage: BaseStorage, clock: Clock, *, prefix: str = KEY_PREFIX) -> Windows:
    """The windows in Redis when dialog state is there (through the same connection pool,
    the keys under ``prefix``), else in this worker's memory."""
    if isinstance(storage, RedisFsmStorage):
        shared = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=prefix,
            connection_pool=storage.redis.connection_pool,
        )
        return RedisWindows(MovingWindowRateLimiter(shared))
    return MemoryWindows(clock)


def build_throttle(settings: Settings, i18n: I18n, storage: BaseStorage, clock: Clock) -> Throttle:
    return Throttle(
        throttle_windows(storage, clock, prefix=f"{redis_prefix(storage)}:{KEY_PREFIX}"),
        updates=settings.throttle_updates,
        window_s=settings.throttle_window_s,
        i18n=i18n,
        default_locale=settings.default_locale,
    )

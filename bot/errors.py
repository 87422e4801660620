"""What the user hears when our own storage fails mid-update: never silence.

A database or Redis error (a lost connection, a full pool that waited too long, a
deadlock) ends the handler. It is caught by an outer update middleware that sits outside
aiogram's own error middleware: aiogram-dialog's error middleware reads the dialog stack
from the same storage, so an error observer would fail the same way. The guard logs the
update id and the exception's type (never the row values or the text) and tells the
person, in their language, to try again: what they typed so far is in the dialog state,
which the next update reads again.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from bot.middlewares import Data, Handler
from dialogs.wording import N_

logger = logging.getLogger(__name__)

STORAGE_ERRORS = (SQLAlchemyError, RedisError, ConnectionError, TimeoutError)
TRY_AGAIN = N_(
    "Something went wrong on our side. Please try again in a minute; what you typed is kept."
)


class StorageErrorGuard(BaseMiddleware):
    def __init__(self, i18n: I18n, default_locale: str) -> None:
        self.i18n = i18n
        self.default_locale = default_locale

    def _locale(self, user: User | None) -> str:
        # The profile may be what failed to load: Telegram's language, else the default.
        code = (user.language_code or "").split("-")[0].lower() if user else ""
        return code if code in self.i18n.available_locales else self.default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        try:
            return await handler(event, data)
        except STORAGE_ERRORS as exc:
            if not isinstance(event, Update):  # registered on updates only
                raise
            logger.error("update %s: storage error %s", event.update_id, type(exc).__name__)
            await self._answer(event, data["bot"])
            return None

    async def _answer(self, update: Update, bot: Bot) -> None:
        message, callback = update.message, update.callback_query
        user = message.from_user if message else callback.from_user if callback else None
        text = self.i18n.gettext(TRY_AGAIN, locale=self._locale(user))
        try:
            if callback is not None:
                await callback.answer(text, show_alert=True)
            elif message is not None and message.chat.type == ChatType.PRIVATE:
                await bot.send_message(message.chat.id, text)
        except TelegramAPIError as exc:
            logger.warning("update %s: the try-again answer failed: %s", update.update_id, exc)

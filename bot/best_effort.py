"""Cosmetic Bot API calls: their failure is logged and never stops the real answer.

Removing an old keyboard, deleting an old window or prompt, closing a prompt, answering a
press so the spinner stops: the user needs none of these to go on, so a Telegram failure
there (after :mod:`bot.telegram_retries` has retried what it could) must not end the
handler before it sends what the user does need. Every such call goes through
:func:`best_effort`; aiogram-dialog's own ones through :class:`BestEffortMessageManager`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import AiogramError, TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram_dialog.api.entities import NewMessage, OldMessage
from aiogram_dialog.manager.message_manager import MessageManager

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram's answers that mean the cosmetic work is already done (typically the answer to
# a repetition of a call whose first answer was lost).
ALREADY_DONE = ("message is not modified", "message to delete not found")


def counts_as_success(exc: Exception) -> bool:
    """Telegram's "message is not modified" or "message to delete not found": done."""
    if not isinstance(exc, TelegramBadRequest):
        return False
    text = exc.message.lower()
    return any(needle in text for needle in ALREADY_DONE)


async def best_effort(call: Awaitable[T], what: str, chat_id: object = None) -> T | None:
    """Await a cosmetic call; on failure log ``what`` and the chat id, return ``None``."""
    try:
        return await call
    except (AiogramError, TimeoutError, OSError) as exc:
        if counts_as_success(exc):
            logger.debug("%s in chat %s: already done", what, chat_id)
            return None
        detail = exc.message if isinstance(exc, TelegramAPIError) else ""
        logger.warning("%s in chat %s failed: %s %s", what, chat_id, type(exc).__name__, detail)
        return None


class BestEffortMessageManager(MessageManager):
    """aiogram-dialog's message manager whose cosmetic calls cannot stop the next window.

    Showing a window after a message from the user first removes the old window's keyboard
    (an edit, or a "..." message with ``ReplyKeyboardRemove`` for a reply keyboard) or
    deletes the old window, then sends the new one; without this, a failure of the first
    step raised before the second and the user got nothing. The edit or send of the new
    window itself is the real answer and still raises.
    """

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        await best_effort(
            super().answer_callback(bot, callback_query),
            "answering a press",
            callback_query.message.chat.id if callback_query.message else None,
        )

    async def remove_inline_kbd(self, bot: Bot, old_message: OldMessage | None) -> Message | None:
        return await best_effort(
            super().remove_inline_kbd(bot, old_message),
            "removing an old inline keyboard",
            old_message.chat.id if old_message else None,
        )

    async def remove_reply_kbd(self, bot: Bot, old_message: OldMessage | None) -> Message | None:
        return await best_effort(
            super().remove_reply_kbd(bot, old_message),
            "removing an old reply keyboard",
            old_message.chat.id if old_message else None,
        )

    async def remove_message_safe(
        self, bot: Bot, old_message: OldMessage, new_message: NewMessage | None
    ) -> None:
        await best_effort(
            super().remove_message_safe(bot, old_message, new_message),
            "deleting an old window",
            old_message.chat.id,
        )

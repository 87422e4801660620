"""The Bot API methods the sandbox implements, with Telegram's semantics and error texts.

Why: the bot (aiogram + aiogram-dialog) must behave here exactly as it will against
api.telegram.org, so every method answers like Telegram does, including its failures:
"message is not modified" for an identical edit, "query is too old" for a second
answerCallbackQuery, "can't parse entities" for bad HTML, 403 for blocked users, 429 with
``retry_after`` and 400 with ``migrate_to_chat_id`` when asked to fail. An edit without
``reply_markup`` removes the inline keyboard, as on Telegram.

:meth:`BotApi.call` (:mod:`~sandbox.botapi.core`) is the single entry point; the methods are
grouped by area: receiving updates (:mod:`~sandbox.botapi.updates`), messages
(:mod:`~sandbox.botapi.messages`), chats, commands and the bot's profile
(:mod:`~sandbox.botapi.chats`).
"""

from sandbox.botapi.core import BotApi
from sandbox.errors import DropConnection

__all__ = ["BotApi", "DropConnection"]

"""What a person was told stays on the screen: a window is edited only while nothing is below it.

aiogram-dialog shows the next window by editing the message whose button was pressed (or the
stack's last window). A notice from the outbox, or an agent's answer, that arrived after that
window sits below it: editing the window then changes a message above the notice, where nobody
looks, and scrolls nothing into view. So whoever sends such a message to a private chat records
its id (:class:`LatestMessages`), and :class:`FreshWindows`, wrapped around aiogram-dialog's
message manager, turns an edit of an older window into a new message at the bottom
(``ShowMode.SEND``, which also takes the old window's buttons away; its text stays).

The record lives in the FSM storage the dispatcher uses (memory, the bot's database or Redis),
under a key of its own (destiny ``latest_msg``), so the outbox of any worker and the dialogs of
any worker see the same one. It only ever grows, and a window sent after it is newer, so it
needs no clearing. Recording is cosmetic: a failure is logged and never fails the send.
"""

from __future__ import annotations

import dataclasses
import logging

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, Chat, Message
from aiogram_dialog import ShowMode
from aiogram_dialog.api.entities import NewMessage, OldMessage
from aiogram_dialog.api.protocols import MessageManagerProtocol

from bot.errors import STORAGE_ERRORS

logger = logging.getLogger(__name__)

DESTINY = "latest_msg"
_ID = "message_id"


class LatestMessages:
    """The newest message the bot sent outside the dialogs, per private chat."""

    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage

    @staticmethod
    def _key(bot_id: int, chat_id: int) -> StorageKey:
        return StorageKey(bot_id=bot_id, chat_id=chat_id, user_id=chat_id, destiny=DESTINY)

    async def newest(self, bot_id: int, chat_id: int) -> int | None:
        data = await self.storage.get_data(self._key(bot_id, chat_id))
        value = data.get(_ID)
        return int(value) if value is not None else None

    async def record(self, bot_id: int, chat_id: int, message_id: int) -> None:
        newest = await self.newest(bot_id, chat_id)
        if newest is None or message_id > newest:
            await self.storage.set_data(self._key(bot_id, chat_id), {_ID: message_id})

    async def sent(self, bot_id: int, message: Message) -> None:
        """Record ``message`` if it went to a private chat. Any failure is logged and
        swallowed: the message is out, and nothing here may make its sender send it again."""
        if message.chat.type != ChatType.PRIVATE:
            return
        try:
            await self.record(bot_id, message.chat.id, message.message_id)
        except Exception as exc:
            logger.warning(
                "message %s in chat %s not recorded as the newest: %s",
                message.message_id,
                message.chat.id,
                type(exc).__name__,
            )


class FreshWindows(MessageManagerProtocol):
    """A message manager that sends a window anew where ``inner`` would edit an older one."""

    def __init__(self, inner: MessageManagerProtocol, latest: LatestMessages) -> None:
        self.inner = inner
        self.latest = latest

    async def _below(self, bot: Bot, chat: Chat, old: OldMessage) -> bool:
        """Whether a message the bot sent outside the dialogs is below ``old``."""
        try:
            newest = await self.latest.newest(bot.id, chat.id)
        except STORAGE_ERRORS as exc:
            logger.warning("newest message of chat %s unknown: %s", chat.id, type(exc).__name__)
            return False
        return newest is not None and newest > old.message_id

    async def show_message(
        self, bot: Bot, new_message: NewMessage, old_message: OldMessage | None
    ) -> OldMessage:
        if (
            old_message is not None
            and new_message.show_mode is ShowMode.EDIT
            and new_message.chat.type == ChatType.PRIVATE
            and await self._below(bot, new_message.chat, old_message)
        ):
            new_message = dataclasses.replace(new_message, show_mode=ShowMode.SEND)
        return await self.inner.show_message(bot, new_message, old_message)

    async def remove_kbd(
        self, bot: Bot, show_mode: ShowMode, old_message: OldMessage | None
    ) -> Message | None:
        return await self.inner.remove_kbd(bot, show_mode, old_message)

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        await self.inner.answer_callback(bot, callback_query)

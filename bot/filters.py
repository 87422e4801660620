"""Cheap router-level filters, all coroutines.

aiogram runs a plain callable filter (a magic ``F`` filter included) through
``asyncio.to_thread``: a thread hop per message just to read an attribute. These are checked
once per router, so a subscriber's ordinary text skips the command parsers of every router
it does not belong to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog.api.internal import ReplyCallbackQuery

GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
# Is this chat id the staff group (under any id it has had)? See bot.staff.access.StaffChats.
StaffChatCheck = Callable[[int], Awaitable[bool]]


async def no_staff_chat(chat_id: int) -> bool:
    return False


async def is_command(message: Message) -> bool:
    """The text starts with "/" (``/status 12``, ``/start@bot``): worth parsing."""
    text = message.text
    return bool(text) and text[0] == "/"


async def in_group_chat(message: Message) -> bool:
    return message.chat.type in GROUPS


async def migrates_to(message: Message) -> bool:
    """A group's last service message: it became the supergroup ``migrate_to_chat_id``."""
    return message.migrate_to_chat_id is not None


async def migrates_from(message: Message) -> bool:
    """A supergroup's first service message: it was the group ``migrate_from_chat_id``."""
    return message.migrate_from_chat_id is not None


async def is_press(callback: CallbackQuery) -> bool:
    """A press of an inline button, not a message that aiogram-dialog turned into one.

    A reply-keyboard button's text carries its callback data in invisible characters, and
    aiogram-dialog hands any message whose text ends in them to every callback handler;
    such a "press" cannot be answered (``answer()`` raises) and is typed, so anyone can
    forge it. Only the subscriber dialogs use reply keyboards: the other routers' buttons
    are inline, and they take real presses only.
    """
    return not isinstance(callback, ReplyCallbackQuery)


async def pressed_in_private_chat(callback: CallbackQuery) -> bool:
    """The press is on a message of a private chat (the subscriber's own buttons live only
    there; the same data pressed in the staff group is forged)."""
    message = callback.message
    return message is not None and message.chat.type == ChatType.PRIVATE

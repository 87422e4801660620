"""Who may act in the staff group, and which chat ids the staff group has had.

Membership is asked from Telegram (``getChatMember``) and cached briefly; when
``STAFF_USER_IDS`` is set, that allow-list decides alone. An anonymous administrator
presses as the group (user id 1087968824, "GroupAnonymousBot"), so nobody can tell who it
was: such presses are refused with a hint to press as themselves.

A group upgraded to a supergroup gets a new id. :class:`StaffChats` knows the configured id
and every id it was upgraded to (from the ``chat_migrations`` table, which the outbox and the
service-message handler fill), so the buttons keep working in the new supergroup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import Chat, TelegramObject

from storage.outbox import SqlOutboxStore
from workflows.values import NAME_MAX_LENGTH, clean_text, cut

logger = logging.getLogger(__name__)

ANONYMOUS_ADMIN_ID = 1087968824
_MEMBER = {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
_GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP}


class StaffAccess:
    """``allowed(bot, chat_id, user_id)``: the allow-list, or membership of the staff chat."""

    def __init__(
        self,
        allow_list: Collection[int] = (),
        *,
        ttl_s: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allow_list = frozenset(allow_list)
        self.ttl_s = ttl_s
        self.now = now
        self._cache: dict[tuple[int, int], tuple[float, bool]] = {}

    def writer_allowed(self, user_id: int) -> bool:
        """A command typed in the staff group: Telegram delivers only members' messages, so
        only the allow-list, when set, has a say."""
        return not self.allow_list or user_id in self.allow_list

    async def allowed(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        if self.allow_list:
            return user_id in self.allow_list
        key = (chat_id, user_id)
        cached = self._cache.get(key)
        now = self.now()
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError as exc:
            logger.warning("cannot check membership of %s in %s: %s", user_id, chat_id, exc)
            return False
        status = member.status
        ok = status in _MEMBER or (
            status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))
        )
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[key] = (now, ok)
        return ok


class StaffChats:
    """The staff group's ids: the configured one and every supergroup it became."""

    def __init__(
        self,
        configured: int,
        store: SqlOutboxStore,
        *,
        reload_s: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.configured = configured
        self.store = store
        self.reload_s = reload_s
        self.now = now
        self._ids: frozenset[int] = frozenset({configured})
        self._loaded_at: float | None = None

    async def _reload(self) -> None:
        self._ids = frozenset(await self.store.chat_ids(self.configured))
        self._loaded_at = self.now()

    async def contains(self, chat_id: int) -> bool:
        if chat_id in self._ids:
            return True
        if self._loaded_at is None or self.now() - self._loaded_at >= self.reload_s:
            await self._reload()
        return chat_id in self._ids

    async def learn(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """The group ``old_chat_id`` is now ``new_chat_id`` (a service message said so)."""
        await self.store.remember_migration(old_chat_id, new_chat_id, now)
        await self._reload()


class StaffChatFilter(Filter):
    """Passes updates from the staff group (under any of its ids)."""

    def __init__(self, chats: StaffChats) -> None:
        self.chats = chats

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        if event_chat is None or event_chat.type not in _GROUPS:
            return False
        return await self.chats.contains(event_chat.id)


def display_name(user: Any) -> str:
    """A staff member's name as stored on the work order: one line without control or bidi
    characters (a name is free text too), at most ``NAME_MAX_LENGTH`` characters; the user
    id when nothing is left of it."""
    name = clean_text(getattr(user, "full_name", "") or "", multiline=False)
    return cut(name, NAME_MAX_LENGTH) or str(getattr(user, "id", "?"))

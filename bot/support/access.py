"""Who is a support agent: the allow-list, or a member of the support chat.

Membership is asked from Telegram (``getChatMember``) and remembered for at most ``ttl``
(10 s), so a burst of page presses costs one request, and a removed member loses access
within 10 s. A refusal of Telegram (the bot is not in the chat, the user is unknown) counts as
"not a member"; a network failure refuses this once without remembering it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError

from workflows.ports import Clock

logger = logging.getLogger(__name__)

# Issue 16: membership is re-checked on every command or cached for at most 10 s.
MEMBERSHIP_TTL = timedelta(seconds=10)
MEMBER_STATUSES = frozenset(
    {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


class AgentAccess:
    def __init__(
        self,
        allow_list: Iterable[int],
        support_chat_id: int | None,
        clock: Clock,
        *,
        ttl: timedelta = MEMBERSHIP_TTL,
        max_entries: int = 10_000,
    ) -> None:
        self.allow_list = frozenset(allow_list)
        self.support_chat_id = support_chat_id
        self.clock = clock
        self.ttl = min(ttl, MEMBERSHIP_TTL)
        self.max_entries = max_entries
        self._cache: dict[int, tuple[datetime, bool]] = {}

    async def is_agent(self, bot: Bot, user_id: int) -> bool:
        if user_id in self.allow_list:
            return True
        if self.support_chat_id is None:
            return False
        now = self.clock.now()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member = await bot.get_chat_member(chat_id=self.support_chat_id, user_id=user_id)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            logger.info("support: membership check refused by Telegram: %s", exc.message)
            result = False
        except TelegramAPIError as exc:
            logger.warning("support: membership check failed: %s", type(exc).__name__)
            return False
        else:
            status = getattr(member, "status", None)
            result = status in MEMBER_STATUSES or (
                status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))
            )
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[user_id] = (now + self.ttl, result)
        return result

"""Every update once: an update delivered again is acknowledged and skipped.

Telegram delivers an update again when it did not see the webhook's 200 in time (a slow or
lost answer), a polling worker fetches again what it had not confirmed when it stopped, and a
load balancer may retry on the other worker. :class:`OnceOnly`, an outer update middleware
that polling and the webhook both pass, claims each ``update_id`` (per bot: the ids are the
bot's) in a short-lived shared record before any handler runs; the first claim wins, the
copies are skipped (the webhook has answered them 200 already) and counted.

Two records (built in ``bot.app``): :class:`RedisSeenUpdates` (``SET key 1 NX EX ttl``) when
dialog state is in Redis, ``storage.seen_updates.SqlSeenUpdates`` (a table with expiry)
otherwise; both shared by every worker, so one update delivered to two is handled once.

An update whose handling failed is not handled again when a copy arrives: the claim is made
before the handlers and stays. Telegram never redelivers because a handler failed (the
webhook answered 200 before handling, polling confirms the offset whatever the outcome), so
a copy is a copy of an update already in hand, not a retry; and the handlers are not
idempotent halfway (an application may be stored before the step that failed), while the
user has been told to try again (bot.errors). A worker killed mid-update loses that update
the same way; the user sends it again.

If the record itself fails (Redis or the database unreachable), the update is handled anyway
(at least once, as before this check) with a warning: the store the handlers need next
answers for itself through StorageErrorGuard.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from bot.errors import STORAGE_ERRORS
from bot.metrics import DUPLICATE_UPDATES

logger = logging.getLogger(__name__)


class SeenUpdates(Protocol):
    async def first_sight(self, bot_id: int, update_id: int) -> bool:
        """Record the update; True for the first delivery, False for a copy within the TTL."""
        ...


class RedisSeenUpdates:
    """One key per update, ``seen_update:<bot id>:<update id>``, expiring after ``ttl``."""

    def __init__(self, redis: Redis, ttl: timedelta, *, prefix: str = "seen_update") -> None:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        self.redis = redis
        self.ttl_s = max(1, int(ttl.total_seconds()))
        self.prefix = prefix

    async def first_sight(self, bot_id: int, update_id: int) -> bool:
        key = f"{self.prefix}:{bot_id}:{update_id}"
        return bool(await self.redis.set(key, b"1", nx=True, ex=self.ttl_s))


class OnceOnly(BaseMiddleware):
    """Outer update middleware: the first delivery of an update goes on, a copy stops here."""

    def __init__(self, seen: SeenUpdates) -> None:
        self.seen = seen

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        bot: Bot | None = data.get("bot")
        if not isinstance(event, Update) or bot is None:
            return await handler(event, data)
        try:
            first = await self.seen.first_sight(bot.id, event.update_id)
        except STORAGE_ERRORS as exc:
            logger.warning(
                "update %s: the record of seen updates failed (%s); handled without the check",
                event.update_id,
                type(exc).__name__,
            )
            first = True
        if not first:
            DUPLICATE_UPDATES.inc()
            logger.info("update %s delivered again: skipped", event.update_id)
            return UNHANDLED
        return await handler(event, data)

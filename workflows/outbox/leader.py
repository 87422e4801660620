"""One Telegram dispatcher at a time: Telegram's limits are the bot's, not the process's.

Why a leader and not rate windows shared in Redis. The limits (1 message a second per
chat, 20 a minute per group, 30 a second overall) belong to the bot token, so with two
workers each counting only its own sends the staff group gets 40 cards a minute and 429s.
Two ways hold them for the bot as a whole: one dispatcher sends at a time, or every
dispatcher takes its places from windows shared in Redis. We lead, because:

* one dispatcher is far from being the bottleneck: it keeps Telegram's overall limit
  (30/s) busy, and the staff group's 20 a minute is the real bottleneck whoever sends;
* the :class:`~workflows.outbox.limits.RateLimiter` stays whole: a request counts from its
  end, a group keeps its place in the overall window, a chat that frees within a moment
  is held for it; shared windows (the ``limits`` package, a GCRA in Lua) would redo that
  in Lua or lose it, and pay a Redis round trip per message;
* it needs nothing new: the lead is a row of the bot's own database (SQLite or
  PostgreSQL), so it works without Redis, and the embedded default (one process) leads
  from its first poll on, as before;
* a dead leader is replaced within the lead's lease (a third of the rows' lease: 10 s),
  a restarted one takes its own lead back at once, and a worker that stops resigns.

The lead is a lease like a row's: the leader renews it every half lease and counts itself
the leader only until its last renewal's lease ends (on its own clock), so two leaders
overlap only if a process stalls past that and then sends the rows it already had in
hand. A new leader starts its limiter from the lane's sends of the last minute (the rows'
``sent_at``), so the group's window goes on where the last leader left it; a 429's
``retry_after`` is in the table already (the row is due again only after it, and no
newer row of that chat goes first), so it holds for every dispatcher and any restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.outbox.chats import ChatBook
from workflows.outbox.limits import RateLimiter
from workflows.outbox.ports import OutboxStore

logger = logging.getLogger(__name__)


@dataclass
class Leadership:
    """Whether this incarnation leads ``lane``: asked of the store every half lease.

    ``catch_up`` runs once whenever the lead is taken from someone else (or had nobody):
    the limiter learns the sends made before (see :func:`catch_up`).
    """

    store: OutboxStore
    lane: str
    owner: str
    incarnation: str
    lease: timedelta
    catch_up: Callable[[datetime], Awaitable[object]] | None = None
    # Until when this incarnation leads (by its own clock); None: it does not.
    _until: datetime | None = field(default=None, init=False, repr=False)
    _next_ask: datetime | None = field(default=None, init=False, repr=False)
    _behind: bool = field(default=False, init=False, repr=False)

    def leads(self, now: datetime) -> bool:
        return self._until is not None and now < self._until

    @property
    def next_ask(self) -> datetime | None:
        """When :meth:`hold` asks the store again (None: at its next call)."""
        return self._next_ask

    async def hold(self, now: datetime) -> bool:
        """Whether this incarnation leads now; renews the lead, or tries to take it, when
        it is time to ask."""
        if self._next_ask is None or now >= self._next_ask:
            await self._ask(now)
        if not self.leads(now):
            return False
        if self._behind and self.catch_up is not None:
            await self.catch_up(now)
        self._behind = False
        return True

    async def _ask(self, now: datetime) -> None:
        lead = await self.store.lead(self.lane, self.incarnation, self.owner, now, self.lease)
        if lead.holder != self.incarnation:
            if self._until is not None:
                logger.warning("outbox %s: %s leads now", self.lane, lead.holder)
            self._until = None
            self._next_ask = min(now + self.lease / 2, max(lead.until, now))
            return
        self._until = lead.until
        self._next_ask = now + self.lease / 2
        if lead.previous != self.incarnation:
            self._behind = True
            logger.info(
                "outbox %s: %s leads now (after %s)", self.lane, self.incarnation, lead.previous
            )

    async def resign(self, now: datetime) -> None:
        if self._until is not None:
            self._until = None
            self._next_ask = None
            await self.store.resign(self.lane, self.incarnation, now)


async def catch_up(
    store: OutboxStore, lane: str, chats: ChatBook, limiter: RateLimiter, now: datetime
) -> int:
    """Count in ``limiter`` the lane's sends still in its windows (made by the previous
    leader); returns how many."""
    sends = await store.recent_sends(lane, now - timedelta(seconds=limiter.horizon))
    moment = limiter.now()
    for recipient, sent_at in sends:
        chat_id = await chats.resolve(recipient)
        limiter.seed(chat_id, moment - (now - sent_at).total_seconds())
    return len(sends)

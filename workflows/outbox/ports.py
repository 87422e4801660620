"""The outbox's two ports: the store that leases rows, and the sender of one channel."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from workflows.outbox.records import CardRef, Claimed, Delivered, Lead


@dataclass(frozen=True, slots=True)
class ClaimScope:
    """Which due rows a claim may take, and in what order.

    ``channel``: only this channel's rows (None: any). ``exclude``: recipients to leave
    alone this time. ``groups_first``: the rows for Telegram groups (negative chat ids)
    before all others.
    """

    channel: str | None = None
    exclude: Collection[str] = ()
    groups_first: bool = False


ANY_ROW = ClaimScope()


class OutboxStore(Protocol):
    async def claim_due(
        self, owner: str, now: datetime, lease: timedelta, limit: int, scope: ClaimScope = ANY_ROW
    ) -> list[Claimed]:
        """Lease up to ``limit`` due rows in ``scope``, each the oldest pending row of its
        recipient; oldest first (after the groups' rows, with ``scope.groups_first``).
        ``owner`` is the claiming incarnation; each claim's token (``Claimed.lease``) is
        ``<owner>:<n>``."""

    async def renew(
        self, incarnation: str, rows: Collection[int], now: datetime, lease: timedelta
    ) -> int:
        """Extend to ``now + lease`` the lease of the ``rows`` (ids) that ``incarnation``
        still holds, in one statement (a dispatcher's heartbeat); returns how many."""

    async def take_back(self, owner: str, incarnation: str) -> int:
        """Hand back the rows leased by ``owner``'s earlier incarnations (``<owner>#...``
        other than ``incarnation``): the process that leased them is gone."""

    async def lead(
        self, lane: str, incarnation: str, owner: str, now: datetime, lease: timedelta
    ) -> Lead:
        """Lead ``lane`` until ``now + lease`` as ``incarnation`` (of ``owner``) if nobody
        leads it, its leader's lease has passed, or its leader is ``owner`` (this
        incarnation or an earlier one); returns who leads it now."""

    async def resign(self, lane: str, incarnation: str, now: datetime) -> None:
        """Stop leading ``lane`` (if ``incarnation`` leads it): another may take it at once."""

    async def recent_sends(self, channel: str, since: datetime) -> list[tuple[str, datetime]]:
        """``(recipient, sent_at)`` of the rows of ``channel`` sent since ``since``."""

    async def mark_sent(self, item: Claimed, delivered: Delivered, now: datetime) -> bool:
        """Record the send (and the card's message id); False if the lease was lost."""

    async def mark_retry(
        self, item: Claimed, error: str | None, next_at: datetime, *, count_attempt: bool = True
    ) -> None:
        """Give the row back, due again at ``next_at``."""

    async def mark_failed(self, item: Claimed, error: str, now: datetime) -> None:
        """Give up on the row and keep the reason."""

    async def resolve_chat(self, chat_id: int) -> int:
        """The chat's current id (following group -> supergroup migrations)."""

    async def remember_migration(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """Keep the new id of an upgraded group for every later message."""

    async def card_of(self, application_number: int) -> CardRef | None:
        """Where the application's staff card is, if it was posted."""


class Sender(Protocol):
    """Delivers the rows of one channel.

    A sender whose lane has a :class:`~workflows.outbox.limits.RateLimiter` makes each
    request inside its ``slot(chat_id)``, so every request is counted when it is made.
    """

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        """Render and deliver one row; ``chat_id`` is the resolved chat for Telegram rows."""

"""The SQL implementation of :class:`workflows.outbox.ports.OutboxStore`.

Claiming is one ``UPDATE ... WHERE id IN (SELECT ...) RETURNING`` statement on both
databases. On PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED``, so dispatchers in
several processes never wait for each other and never lease one row twice. On SQLite the
statement runs under the database's single write lock, which gives the same guarantee; the
lease condition is part of the statement, and every later write checks the claim's token
(``lease_owner``), so a dispatcher whose lease ran out cannot overwrite another's outcome.

Each claimed row is the oldest pending row of its recipient (first in, first out per chat
or address, across processes too): a row is not handed out while an older pending row for
the same recipient exists, leased or not. The Telegram lane asks for the groups' rows first
(``groups_first``: a recipient with a minus), the oldest first among the rest.

Leases are short and renewed (``renew``, one statement per heartbeat); a restarted worker
takes back its predecessor's rows (``take_back``: the claims whose token starts with its
own ``<owner>#``). The lead of a lane (``outbox_leader``, one row per lane) is leased the
same way; a change of leader is a compare-and-set on the row, so it is granted to one
dispatcher and says whom it was taken from.

On SQLite the store's own writes (claims, outcomes) take turns on an ``asyncio.Lock``, so
they never meet SQLite's busy handler inside this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from storage.database import create_session_factory, is_postgres
from storage.models import ApplicationRow, ChatMigrationRow, OutboxLeaderRow, OutboxRow
from workflows.outbox.ports import ANY_ROW, ClaimScope
from workflows.outbox.records import CardRef, Claimed, Delivered, Lead, OutboxStatus

logger = logging.getLogger(__name__)

MAX_MIGRATION_HOPS = 5
# The width of ``outbox.lease_owner`` and ``outbox_leader.holder``.
MAX_TOKEN = 64


def _claimed(row: OutboxRow, token: str) -> Claimed:
    return Claimed(
        id=row.id,
        kind=row.kind,
        channel=row.channel,
        recipient=row.recipient,
        dedupe_key=row.dedupe_key,
        application_number=row.application_number,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        created_at=row.created_at,
        lease=token,
    )


class SqlOutboxStore:
    """Outbox rows, staff-card message ids and chat migrations, in the bot's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = create_session_factory(engine)
        self.postgres = is_postgres(engine)
        self._claims = itertools.count(1)
        # SQLite has one writer at a time: a connection that finds the write lock taken
        # sleeps in SQLite's busy handler (1, 2, 5 ... 100 ms at a go, holding its pool
        # connection) however soon the lock is free. Our own writes queue here instead.
        self._write_lock = None if self.postgres else asyncio.Lock()

    def _writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._write_lock or contextlib.nullcontext()

    @staticmethod
    def _due(row: Any, now: datetime, scope: ClaimScope) -> list[ColumnElement[bool]]:
        """Due, not leased, and the oldest pending row of its recipient."""
        older = aliased(OutboxRow, name="older")
        conditions = [
            row.status == OutboxStatus.PENDING,
            row.next_attempt_at <= now,
            or_(row.lease_until.is_(None), row.lease_until < now),
            ~exists().where(
                older.status == OutboxStatus.PENDING,
                older.channel == row.channel,
                older.recipient == row.recipient,
                older.id < row.id,
            ),
        ]
        if scope.channel is not None:
            conditions.append(row.channel == scope.channel)
        if scope.exclude:
            conditions.append(row.recipient.not_in(list(scope.exclude)))
        return conditions

    @staticmethod
    def _order(row: Any, groups_first: bool) -> list[ColumnElement[Any]]:
        """Oldest first; groups' rows (a chat id with a minus) before the others."""
        if not groups_first:
            return [row.id]
        return [case((row.recipient.startswith("-"), 0), else_=1), row.id]

    async def claim_due(
        self, owner: str, now: datetime, lease: timedelta, limit: int, scope: ClaimScope = ANY_ROW
    ) -> list[Claimed]:
        async with self.sessions() as session:
            # A read first: an idle poll must not take SQLite's write lock.
            found = await session.scalar(
                select(OutboxRow.id).where(*self._due(OutboxRow, now, scope)).limit(1)
            )
            await session.rollback()
        if found is None:
            return []
        token = f"{owner}:{next(self._claims)}"
        if len(token) > MAX_TOKEN:
            raise ValueError(f"a lease token is at most {MAX_TOKEN} characters: {token!r}")
        # An alias, so the subquery is not correlated with the UPDATE's own table.
        candidate = aliased(OutboxRow, name="candidate")
        ids = (
            select(candidate.id)
            .where(*self._due(candidate, now, scope))
            .order_by(*self._order(candidate, scope.groups_first))
            .limit(limit)
        )
        if self.postgres:
            ids = ids.with_for_update(skip_locked=True, of=candidate)
        stmt = (
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids.scalar_subquery()))
            .where(
                OutboxRow.status == OutboxStatus.PENDING,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
            )
            .values(lease_owner=token, lease_until=now + lease)
            .returning(OutboxRow)
            .execution_options(synchronize_session=False)
        )
        async with self._writing(), self.sessions() as session:
            rows = list(await session.scalars(stmt))
            await session.commit()
        claimed = [_claimed(row, token) for row in rows if row.lease_owner == token]
        if scope.groups_first:
            claimed.sort(key=lambda item: (not item.recipient.startswith("-"), item.id))
        else:
            claimed.sort(key=lambda item: item.id)
        return claimed

    async def renew(
        self, incarnation: str, rows: Collection[int], now: datetime, lease: timedelta
    ) -> int:
        if not rows:
            return 0
        async with self._writing(), self.engine.begin() as conn:
            result = await conn.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_(list(rows)),
                    OutboxRow.status == OutboxStatus.PENDING,
                    OutboxRow.lease_owner.startswith(f"{incarnation}:", autoescape=True),
                )
                .values(lease_until=now + lease)
            )
        return int(result.rowcount or 0)

    async def take_back(self, owner: str, incarnation: str) -> int:
        async with self._writing(), self.engine.begin() as conn:
            result = await conn.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.status == OutboxStatus.PENDING,
                    OutboxRow.lease_owner.startswith(f"{owner}#", autoescape=True),
                    ~OutboxRow.lease_owner.startswith(f"{incarnation}:", autoescape=True),
                )
                .values(lease_owner=None, lease_until=None)
            )
        return int(result.rowcount or 0)

    async def lead(
        self, lane: str, incarnation: str, owner: str, now: datetime, lease: timedelta
    ) -> Lead:
        if len(incarnation) > MAX_TOKEN:
            raise ValueError(f"a leader's name is at most {MAX_TOKEN} characters")
        until = now + lease
        row = OutboxLeaderRow
        while True:
            async with self.sessions() as session:
                current = (
                    await session.execute(select(row.holder, row.until).where(row.lane == lane))
                ).first()
                await session.rollback()
            if current is None:
                if await self._first_leader(lane, incarnation, until):
                    return Lead(incarnation, until, None)
                continue  # another took it first: look again
            mine = current.holder.startswith(f"{owner}#")
            if not mine and current.until > now:
                return Lead(current.holder, current.until, current.holder)
            async with self._writing(), self.engine.begin() as conn:
                taken = await conn.execute(
                    update(row)
                    .where(
                        row.lane == lane,
                        row.holder == current.holder,
                        row.until == current.until,
                    )
                    .values(holder=incarnation, until=until)
                )
            if taken.rowcount:
                return Lead(incarnation, until, current.holder)
            # Renewed or taken meanwhile: look again.

    async def _first_leader(self, lane: str, incarnation: str, until: datetime) -> bool:
        try:
            async with self._writing(), self.engine.begin() as conn:
                await conn.execute(
                    insert(OutboxLeaderRow).values(lane=lane, holder=incarnation, until=until)
                )
        except IntegrityError:
            return False
        return True

    async def resign(self, lane: str, incarnation: str, now: datetime) -> None:
        async with self._writing(), self.engine.begin() as conn:
            await conn.execute(
                update(OutboxLeaderRow)
                .where(OutboxLeaderRow.lane == lane, OutboxLeaderRow.holder == incarnation)
                .values(until=now)
            )

    async def recent_sends(self, channel: str, since: datetime) -> list[tuple[str, datetime]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(OutboxRow.recipient, OutboxRow.sent_at).where(
                    OutboxRow.sent_at >= since,
                    OutboxRow.channel == channel,
                    OutboxRow.status == OutboxStatus.SENT,
                )
            )
            return [(recipient, at) for recipient, at in rows.all() if at is not None]

    async def mark_sent(self, item: Claimed, delivered: Delivered, now: datetime) -> bool:
        async with self._writing(), self.engine.begin() as conn:
            result = await conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item.id, OutboxRow.lease_owner == item.lease)
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=now,
                    attempts=OutboxRow.attempts + 1,
                    lease_owner=None,
                    lease_until=None,
                    last_error=None,
                    result=delivered.as_result() or None,
                )
            )
            if (
                delivered.card
                and item.application_number is not None
                and delivered.chat_id is not None
                and delivered.message_id is not None
            ):
                # Written even when the lease was lost: the message exists either way.
                await conn.execute(
                    update(ApplicationRow)
                    .where(ApplicationRow.number == item.application_number)
                    .values(staff_chat_id=delivered.chat_id, staff_message_id=delivered.message_id)
                )
        return bool(result.rowcount)

    async def mark_retry(
        self, item: Claimed, error: str | None, next_at: datetime, *, count_attempt: bool = True
    ) -> None:
        values: dict[str, object] = {
            "next_attempt_at": next_at,
            "lease_owner": None,
            "lease_until": None,
        }
        if count_attempt:
            values["attempts"] = OutboxRow.attempts + 1
        if error is not None:
            values["last_error"] = error
        await self._finish(item, values)

    async def mark_failed(self, item: Claimed, error: str, now: datetime) -> None:
        await self._finish(
            item,
            {
                "status": OutboxStatus.FAILED,
                "attempts": OutboxRow.attempts + 1,
                "last_error": error,
                "lease_owner": None,
                "lease_until": None,
                "sent_at": None,
            },
        )

    async def _finish(self, item: Claimed, values: dict[str, object]) -> None:
        async with self._writing(), self.engine.begin() as conn:
            result = await conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item.id, OutboxRow.lease_owner == item.lease)
                .values(**values)
            )
        if not result.rowcount:
            logger.warning("outbox %s: lease lost before its outcome was recorded", item.id)

    async def resolve_chat(self, chat_id: int) -> int:
        return (await self._chain(chat_id))[-1]

    async def remember_migration(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        if old_chat_id == new_chat_id:
            return
        for _ in range(2):  # a concurrent insert by another process: update on the retry
            async with self._writing(), self.sessions() as session:
                row = await session.get(ChatMigrationRow, old_chat_id)
                if row is None:
                    session.add(
                        ChatMigrationRow(old_chat_id=old_chat_id, new_chat_id=new_chat_id, at=now)
                    )
                elif row.new_chat_id != new_chat_id:
                    row.new_chat_id = new_chat_id
                    row.at = now
                else:
                    return
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    continue
                logger.info("chat %s was upgraded to %s", old_chat_id, new_chat_id)
                return

    async def chat_ids(self, chat_id: int) -> list[int]:
        """``chat_id`` and the ids it was upgraded to, oldest first."""
        return await self._chain(chat_id)

    async def _chain(self, chat_id: int) -> list[int]:
        chain = [chat_id]
        async with self.sessions() as session:
            for _ in range(MAX_MIGRATION_HOPS):
                newer = await session.scalar(
                    select(ChatMigrationRow.new_chat_id).where(
                        ChatMigrationRow.old_chat_id == chain[-1]
                    )
                )
                if newer is None or newer in chain:
                    break
                chain.append(newer)
        return chain

    async def card_of(self, application_number: int) -> CardRef | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(ApplicationRow.staff_chat_id, ApplicationRow.staff_message_id).where(
                        ApplicationRow.number == application_number
                    )
                )
            ).first()
        if row is None or row.staff_chat_id is None or row.staff_message_id is None:
            return None
        return CardRef(chat_id=row.staff_chat_id, message_id=row.staff_message_id)

    async def counts(self) -> dict[str, int]:
        """Rows per status (for /stats, health checks and tests)."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
            )
            return {status: count for status, count in rows.all()}


__all__ = ["SqlOutboxStore"]

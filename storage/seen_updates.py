"""The updates already taken, in the bot's database: ``bot.once``'s record without Redis.

One row of ``seen_updates`` per (bot id, update id) with ``expires_at``. A claim is one
statement, ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <= now``: a new update
inserts its row, an expired row is taken over, and a live one is left alone (no row
changed: a copy). Two workers claiming the same update at once on PostgreSQL: the second
insert waits for the first to commit, then finds the row live. The statements run in
autocommit mode on PostgreSQL (each is atomic on its own), as ``storage.fsm``'s do.

Expired rows are deleted by the first claim of each ``purge_every`` (a minute), one DELETE
on the ``expires_at`` index.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import connected, dialect_insert, is_postgres
from storage.models import SeenUpdateRow
from workflows.clock import SystemClock
from workflows.ports import Clock

logger = logging.getLogger(__name__)

seen_updates: Table = SeenUpdateRow.__table__  # type: ignore[assignment]

DEFAULT_PURGE_EVERY = timedelta(minutes=1)

_COLUMNS = seen_updates.c
_EXPIRED = _COLUMNS.expires_at <= bindparam("now")
_PURGE = delete(seen_updates).where(_EXPIRED)


@cache
def _claim(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(seen_updates)
    return stmt.on_conflict_do_update(
        index_elements=[_COLUMNS.bot_id, _COLUMNS.update_id],
        set_={"expires_at": stmt.excluded.expires_at},
        where=_EXPIRED,
    )


class SqlSeenUpdates:
    """``bot.once.SeenUpdates`` over the bot's engine."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: timedelta,
        clock: Clock | None = None,
        purge_every: timedelta = DEFAULT_PURGE_EVERY,
    ) -> None:
        if ttl <= timedelta(0) or purge_every <= timedelta(0):
            raise ValueError("ttl and purge_every must be positive")
        self._engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if is_postgres(engine)
            else engine
        )
        self._dialect = engine.dialect.name
        self.ttl = ttl
        self.clock = clock or SystemClock()
        self.purge_every = purge_every
        self._next_purge: datetime | None = None

    async def first_sight(self, bot_id: int, update_id: int) -> bool:
        now = self.clock.now()
        params = {
            "bot_id": bot_id,
            "update_id": update_id,
            "expires_at": now + self.ttl,
            "now": now,
        }
        async with connected(self._engine) as conn:
            claimed = await conn.execute(_claim(self._dialect), params)
            await conn.commit()  # SQLite's transaction; nothing to do in autocommit mode
        await self._purge_if_due(now)
        return bool(claimed.rowcount)

    async def _purge_if_due(self, now: datetime) -> None:
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + self.purge_every
        try:
            async with connected(self._engine) as conn:
                purged = await conn.execute(_PURGE, {"now": now})
                await conn.commit()
        except SQLAlchemyError as exc:  # the claim has been made: keep it so
            logger.warning(
                "seen updates: the purge of expired rows failed: %s", type(exc).__name__
            )
            return
        if purged.rowcount:
            logger.debug("seen updates: %d expired rows deleted", purged.rowcount)

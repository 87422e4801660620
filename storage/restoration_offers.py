"""The restoration offer's two statements (issue 19, item 6), part of ``SqlApplications``:
the suspensions due an offer, and the claim of one offer by a conditional UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, and_, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import ApplicationRow
from storage.rows import application_of_row
from workflows.models import Application, ApplicationKind, ApplicationStatus

applications: Table = ApplicationRow.__table__  # type: ignore[assignment]
_later = applications.alias("later")
_DONE = ApplicationStatus.DONE.value

_DUE = (
    select(applications)
    .where(
        applications.c.kind == ApplicationKind.SUSPEND.value,
        applications.c.status == _DONE,
        applications.c.suspend_until.is_not(None),
        applications.c.suspend_until <= bindparam("last_day"),
        applications.c.restoration_offered_at.is_(None),
        applications.c.anonymised_at.is_(None),
        # no application open on the code (the unique open_lock names it)
        ~exists().where(_later.c.open_lock == applications.c.subscriber_code),
        # none done on the code after this one: that one speaks for the code now
        ~exists().where(
            and_(
                _later.c.subscriber_code == applications.c.subscriber_code,
                _later.c.number > applications.c.number,
                _later.c.status == _DONE,
            )
        ),
    )
    .order_by(applications.c.suspend_until, applications.c.number)
)
# Only the first of two units of work at once finds the column still empty: the second
# waits for the first one's row lock (PostgreSQL) or write lock (SQLite), then matches none.
_CLAIM = (
    update(applications)
    .where(
        applications.c.number == bindparam("b_number"),
        applications.c.restoration_offered_at.is_(None),
    )
    .values(restoration_offered_at=bindparam("b_now"))
)


class SqlRestorationOffers:
    """The ``Applications`` port's restoration statements, on the unit of work's connection."""

    __slots__ = ()
    _conn: AsyncConnection

    async def restoration_due(self, last_day: str, *, limit: int) -> Sequence[Application]:
        rows = await self._conn.execute(_DUE.limit(limit), {"last_day": last_day})
        return [application_of_row(row) for row in rows]

    async def claim_restoration_offer(self, number: int, now: datetime) -> bool:
        result = await self._conn.execute(_CLAIM, {"b_number": number, "b_now": now})
        return result.rowcount == 1

"""The SQL implementations of ``SupportQueries`` (portable reads for SQLite and PostgreSQL)
and of ``AccessLog`` (the ``agent_access`` table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.identity import SqlVerifications
from storage.models import AgentAccessRow, ApplicationRow, EventRow
from storage.registry import engine_of
from storage.repositories import (
    SqlApplications,
    _application,
    outbox,
    read_reasons,
)
from workflows.models import Application, ApplicationStatus, Reason
from workflows.ports import (
    AccessLog,
    AgentLookup,
    ApplicationFile,
    Completion,
    Delivery,
    SupportQueries,
)

QUERY_MAX = 64  # agent_access.query
OPEN_STATUSES = [s.value for s in ApplicationStatus if s.is_open]


def _delivery(row: Any) -> Delivery:
    payload: dict[str, Any] = row.payload or {}
    event = payload.get("event")
    return Delivery(
        kind=row.kind,
        channel=row.channel,
        status=row.status,
        attempts=row.attempts or 0,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        event=str(event) if event is not None else None,
    )


def _matching(subscriber_code: str | None, fin: str | None) -> ColumnElement[bool]:
    conditions = []
    if subscriber_code is not None:
        conditions.append(ApplicationRow.subscriber_code == subscriber_code)
    if fin is not None:
        conditions.append(ApplicationRow.fin == fin)
    if not conditions:
        raise ValueError("a subscriber code or a FIN is required")
    return or_(*conditions)


class SqlSupportQueries(SupportQueries):
    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.session_factory = session_factory

    async def get_application_file(self, number: int) -> ApplicationFile | None:
        async with engine_of(self.session_factory).connect() as conn:
            app = await SqlApplications(conn).get(number)
            if app is None:
                return None
            rows = await conn.execute(
                select(outbox)
                .where(outbox.c.application_number == number)
                .order_by(outbox.c.created_at, outbox.c.id)
            )
            deliveries = tuple(_delivery(r) for r in rows)
            verifications = tuple(await SqlVerifications(conn).of_fin(app.fin))
            return ApplicationFile(app, deliveries, verifications)

    async def find_applications(
        self, *, subscriber_code: str | None, fin: str | None, limit: int
    ) -> Sequence[Application]:
        stmt = (
            select(ApplicationRow)
            .where(_matching(subscriber_code, fin))
            .order_by(ApplicationRow.number.desc())
            .limit(limit)
        )
        async with self.session_factory() as session:
            return [_application(r) for r in await session.scalars(stmt)]

    async def count_applications(self, *, subscriber_code: str | None, fin: str | None) -> int:
        stmt = select(func.count()).select_from(ApplicationRow)
        stmt = stmt.where(_matching(subscriber_code, fin))
        async with self.session_factory() as session:
            return int(await session.scalar(stmt) or 0)

    async def open_applications(self, *, limit: int) -> Sequence[Application]:
        stmt = (
            select(ApplicationRow)
            .where(ApplicationRow.status.in_(OPEN_STATUSES))
            .order_by(ApplicationRow.number.asc())
            .limit(limit)
        )
        async with self.session_factory() as session:
            return [_application(r) for r in await session.scalars(stmt)]

    async def count_by_status(self) -> Mapping[ApplicationStatus, int]:
        stmt = select(ApplicationRow.status, func.count()).group_by(ApplicationRow.status)
        known = {s.value for s in ApplicationStatus}
        async with self.session_factory() as session:
            rows = (await session.execute(stmt)).all()
        return {ApplicationStatus(status): int(n) for status, n in rows if status in known}

    async def count_events_by_kind(self) -> Mapping[str, int]:
        stmt = select(EventRow.kind, func.count()).group_by(EventRow.kind)
        async with self.session_factory() as session:
            rows = (await session.execute(stmt)).all()
        return {str(kind): int(n) for kind, n in rows}

    async def count_registered_since(self, since: datetime) -> int:
        stmt = (
            select(func.count())
            .select_from(ApplicationRow)
            .where(ApplicationRow.created_at >= since)
        )
        async with self.session_factory() as session:
            return int(await session.scalar(stmt) or 0)

    async def completion_durations(self, closed_since: datetime) -> Sequence[timedelta]:
        # Date arithmetic differs between SQLite and PostgreSQL; the subtraction is done here.
        stmt = select(ApplicationRow.created_at, ApplicationRow.closed_at).where(
            ApplicationRow.status == ApplicationStatus.DONE.value,
            ApplicationRow.closed_at >= closed_since,
        )
        async with self.session_factory() as session:
            rows = (await session.execute(stmt)).all()
        return [closed - created for created, closed in rows if closed is not None]

    async def completions(self, closed_since: datetime) -> Sequence[Completion]:
        row = ApplicationRow
        stmt = select(row.reason_code, row.created_at, row.due_at, row.closed_at).where(
            row.status == ApplicationStatus.DONE.value, row.closed_at >= closed_since
        )
        async with self.session_factory() as session:
            rows = (await session.execute(stmt)).all()
        return [Completion(*r) for r in rows if r.closed_at is not None]

    async def ratings_since(self, closed_since: datetime) -> Sequence[tuple[str, str, int]]:
        stmt = select(
            ApplicationRow.reason_code, ApplicationRow.taken_by_name, ApplicationRow.rating
        ).where(
            ApplicationRow.status == ApplicationStatus.DONE.value,
            ApplicationRow.closed_at >= closed_since,
            ApplicationRow.rating.is_not(None),
        )
        async with self.session_factory() as session:
            rows = (await session.execute(stmt)).all()
        return [(code, name or "?", int(rating)) for code, name, rating in rows]

    async def reasons(self) -> Sequence[Reason]:
        async with engine_of(self.session_factory).connect() as conn:
            return await read_reasons(conn, active_only=False)


class SqlAccessLog(AccessLog):
    """Each look-up in its own short transaction, committed before the answer is read."""

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.engine = engine_of(session_factory)

    async def record(self, lookup: AgentLookup) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                AgentAccessRow.__table__.insert(),
                {
                    "at": lookup.at,
                    "agent_id": lookup.agent_id,
                    "command": lookup.command,
                    "query": lookup.query[:QUERY_MAX],
                },
            )

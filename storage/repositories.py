"""The SQL implementation of the unit of work's role ports and of the embedded registry.

SQLAlchemy Core on one ``AsyncConnection`` per unit of work, not the ORM: the journey's
statements are a handful of single-row reads and inserts, and the ORM's unit of work, identity
map and per-session bookkeeping cost more CPU than the statements themselves (benchmark:
issue 7). Every statement is also one round trip less than its ORM form where it can be: an
upsert instead of read-then-write, ``RETURNING`` instead of a flush, ``ON CONFLICT DO
NOTHING`` instead of a dedupe query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from storage.database import connected, dialect_insert
from storage.identity import SqlAuditLog, SqlVerifications
from storage.models import (
    ApplicationRow,
    EventRow,
    OutboxRow,
    ReasonLabelRow,
    ReasonRow,
    SubscriberRow,
    UserRow,
)
from storage.privacy import SqlPersonalData
from storage.registry import SqlRegistryWriteBack, engine_of
from storage.restoration_offers import SqlRestorationOffers
from storage.rows import application_of_row as _application
from workflows.errors import OpenApplicationExists
from workflows.models import (
    Application,
    ApplicationKind,
    Event,
    Reason,
)
from workflows.outbox.records import OutboxStatus
from workflows.ports import (
    Applications,
    OutboxItem,
    OutboxQueue,
    Profiles,
    ReasonCatalogue,
    UnitOfWork,
    UserProfile,
)

users: Table = UserRow.__table__  # type: ignore[assignment]
subscribers: Table = SubscriberRow.__table__  # type: ignore[assignment]
reasons: Table = ReasonRow.__table__  # type: ignore[assignment]
reason_labels: Table = ReasonLabelRow.__table__  # type: ignore[assignment]
applications: Table = ApplicationRow.__table__  # type: ignore[assignment]
events: Table = EventRow.__table__  # type: ignore[assignment]
outbox: Table = OutboxRow.__table__  # type: ignore[assignment]


# The journey's statements are built once, with bound parameters, and executed with a dict of
# values: building ``.values(...)`` with literals on every call (a bind parameter and a cache
# key per column) cost more CPU than executing the statement.
_PROFILE = select(users.c.locale, users.c.fin, users.c.verified_phone).where(
    users.c.telegram_user_id == bindparam("user_id")
)
_OPEN_NUMBER = select(applications.c.number).where(applications.c.open_lock == bindparam("code"))
# The reasons with their labels in one query: a row per label (a reason without any: one row
# with a NULL locale), in the catalogue's order.
_ALL_REASONS = (
    select(
        reasons.c.code,
        reasons.c.kind,
        reasons.c.deadline_hours,
        reason_labels.c.locale,
        reason_labels.c.label,
    )
    .select_from(reasons.outerjoin(reason_labels))
    .order_by(reasons.c.position, reasons.c.code)
)
_ACTIVE_REASONS = _ALL_REASONS.where(reasons.c.active.is_(True))
_ADD_APPLICATION = applications.insert().returning(applications.c.number)
_ADD_EVENT = events.insert()
_APPLICATION = select(applications).where(applications.c.number == bindparam("number"))
_HISTORY = (
    select(events)
    .where(events.c.application_number == bindparam("number"))
    .order_by(events.c.at, events.c.id)
)


@cache
def _save_profile(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(users)
    return stmt.on_conflict_do_update(
        index_elements=[users.c.telegram_user_id],
        set_={
            "locale": stmt.excluded.locale,
            "fin": stmt.excluded.fin,
            # A profile read from the per-user cache has no phone: saving it keeps the one
            # stored (an erasure deletes the row).
            "verified_phone": func.coalesce(stmt.excluded.verified_phone, users.c.verified_phone),
            "updated_at": stmt.excluded.updated_at,
        },
    )


@cache
def _enqueue(dialect: str) -> Any:
    return dialect_insert(dialect)(outbox).on_conflict_do_nothing(
        index_elements=[outbox.c.dedupe_key]
    )


# The work order's life after registration (issue 19), stored as the record has them.
LIFE_FIELDS = (
    "planned_date",
    "planned_window",
    "due_at",
    "withdraw_requested_at",
    "confirm_asked_at",
    "citizen_answer",
    "rating",
    "rating_comment",
    "reopened_count",
    "suspend_until",
    "restoration_offered_at",
)


def outbox_values(item: OutboxItem, now: datetime) -> dict[str, Any]:
    """The ``outbox`` row of a message owed from ``now`` on, pending and due at once."""
    return {
        "created_at": now,
        "kind": item.kind,
        "channel": item.channel,
        "recipient": item.recipient,
        "dedupe_key": item.dedupe_key,
        "application_number": item.application_number,
        "payload": item.payload,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
    }


def _reasons(rows: Iterable[Any]) -> list[Reason]:
    """Reasons from the rows of ``_ALL_REASONS``, in their order."""
    found: dict[str, tuple[str, int | None, dict[str, str]]] = {}
    for row in rows:
        labels = found.setdefault(row.code, (row.kind, row.deadline_hours, {}))[2]
        if row.locale is not None:
            labels[row.locale] = row.label
    return [
        Reason(code, ApplicationKind(kind), labels, hours)
        for code, (kind, hours, labels) in found.items()
    ]


async def read_reasons(conn: AsyncConnection, *, active_only: bool = True) -> list[Reason]:
    """The catalogue with each reason's labels; ``active_only=False`` adds the inactive ones
    (old applications give them)."""
    return _reasons(await conn.execute(_ACTIVE_REASONS if active_only else _ALL_REASONS))


class SqlProfiles(Profiles):
    __slots__ = ("_conn", "_dialect")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def get(self, telegram_user_id: int) -> UserProfile | None:
        row = (await self._conn.execute(_PROFILE, {"user_id": telegram_user_id})).first()
        if row is None:
            return None
        return UserProfile(telegram_user_id, row.locale, row.fin, row.verified_phone)

    async def save(self, profile: UserProfile, now: datetime) -> None:
        await self._conn.execute(
            _save_profile(self._dialect),
            {
                "telegram_user_id": profile.telegram_user_id,
                "locale": profile.locale,
                "fin": profile.fin,
                "verified_phone": profile.verified_phone,
                "updated_at": now,
            },
        )


class SqlReasonCatalogue(ReasonCatalogue):
    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def active(self) -> Sequence[Reason]:
        return await read_reasons(self._conn)


class SqlApplications(SqlRestorationOffers, Applications):
    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open_number(self, subscriber_code: str) -> int | None:
        return await self._conn.scalar(_OPEN_NUMBER, {"code": subscriber_code})

    async def add(self, app: Application) -> int:
        """Insert; on the open-application constraint raise ``OpenApplicationExists(0)``.

        No savepoint: the caller's transaction is over after the refusal (PostgreSQL aborts
        it), and ``Journey.submit`` looks the open number up in a transaction of its own.
        """
        values = {
            "kind": app.kind.value,
            "status": app.status.value,
            "fin": app.fin,
            "subscriber_code": app.subscriber_code,
            "open_lock": app.subscriber_code,
            "address": app.address,
            "reason_code": app.reason_code,
            "phone": app.phone,
            "email": app.email,
            "description": app.description,
            "notes": app.notes,
            "locale": app.locale,
            "telegram_user_id": app.telegram_user_id,
            "chat_id": app.chat_id,
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "identified_by": app.identified_by,
            "due_at": app.due_at,
            "suspend_until": app.suspend_until,
        }
        try:
            number = (await self._conn.execute(_ADD_APPLICATION, values)).scalar_one()
        except IntegrityError as exc:
            if "open_lock" not in str(exc.orig):
                raise
            raise OpenApplicationExists(0) from exc
        return int(number)

    async def get(self, number: int, *, lock: bool = False) -> Application | None:
        stmt = _APPLICATION.with_for_update() if lock else _APPLICATION
        row = (await self._conn.execute(stmt, {"number": number})).first()
        if row is None:
            return None
        history = await self._conn.execute(_HISTORY, {"number": number})
        return _application(row, list(history))

    async def of_fin(self, fin: str, *, limit: int) -> Sequence[Application]:
        stmt = (
            select(applications)
            .where(applications.c.fin == fin)
            .order_by(applications.c.number.desc())
            .limit(limit)
        )
        return [_application(r) for r in await self._conn.execute(stmt)]

    async def visible_to(
        self, telegram_user_id: int, fins: Sequence[str], *, limit: int
    ) -> Sequence[Application]:
        mine = applications.c.telegram_user_id == telegram_user_id
        where = or_(mine, applications.c.fin.in_(list(fins))) if fins else mine
        stmt = (
            select(applications).where(where).order_by(applications.c.number.desc()).limit(limit)
        )
        return [_application(r) for r in await self._conn.execute(stmt)]

    async def open_created_before(
        self,
        moment: datetime,
        *,
        limit: int,
        reminded_before: datetime | None = None,
        due_before: datetime | None = None,
    ) -> Sequence[Application]:
        past = applications.c.created_at < moment
        if due_before is not None:
            due = applications.c.due_at
            past = or_(and_(due.is_(None), past), due < due_before)
        stmt = select(applications).where(applications.c.open_lock.is_not(None), past)
        if reminded_before is not None:
            last = applications.c.last_reminder_at
            stmt = stmt.where(or_(last.is_(None), last <= reminded_before))
        stmt = stmt.order_by(applications.c.number.asc()).limit(limit)
        return [_application(r) for r in await self._conn.execute(stmt)]

    async def update(self, app: Application) -> None:
        await self._conn.execute(
            update(applications)
            .where(applications.c.number == app.number)
            .values(
                status=app.status.value,
                open_lock=app.subscriber_code if app.status.is_open else None,
                updated_at=app.updated_at,
                taken_by_id=app.taken_by_id,
                taken_by_name=app.taken_by_name,
                taken_at=app.taken_at,
                closed_at=app.closed_at,
                result_note=app.result_note,
                last_reminder_at=app.last_reminder_at,
                **{name: getattr(app, name) for name in LIFE_FIELDS},
            )
        )

    async def add_event(self, number: int, event: Event) -> None:
        await self._conn.execute(
            _ADD_EVENT,
            {
                "application_number": number,
                "at": event.at,
                "kind": event.kind.value,
                "actor": event.actor,
                "note": event.note,
                "photo_file_id": event.photo_file_id,
            },
        )


class SqlOutboxQueue(OutboxQueue):
    __slots__ = ("_conn", "_dialect")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def enqueue(self, item: OutboxItem, now: datetime) -> None:
        await self._conn.execute(_enqueue(self._dialect), outbox_values(item, now))

    async def drop_pending(
        self, application_number: int, *, keep: frozenset[str], note: str, now: datetime
    ) -> int:
        # A leased row loses its lease too: the dispatcher's outcome no longer matches it.
        result = await self._conn.execute(
            update(outbox)
            .where(
                outbox.c.application_number == application_number,
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.kind.not_in(sorted(keep)),
            )
            .values(
                status=OutboxStatus.FAILED.value,
                last_error=note,
                lease_owner=None,
                lease_until=None,
            )
        )
        return int(result.rowcount or 0)


class SqlUnitOfWork(UnitOfWork):
    """The roles of one unit of work, all on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.profiles = SqlProfiles(conn)
        self.verifications = SqlVerifications(conn)
        self.audit = SqlAuditLog(conn)
        self.personal = SqlPersonalData(conn)
        self.reasons = SqlReasonCatalogue(conn)
        self.applications = SqlApplications(conn)
        self.registry = SqlRegistryWriteBack(conn)
        self.outbox = SqlOutboxQueue(conn)

    async def commit(self) -> None:
        await self.conn.commit()


class SqlTransactionFactory:
    """``async with factory() as tx`` holds one connection; leaving without commit rolls back.

    ``session_factory`` stays available for the ORM-based stores (support queries, tests).
    """

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.session_factory = session_factory
        self.engine = engine_of(session_factory)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlUnitOfWork]:
        async with connected(self.engine) as conn:
            yield SqlUnitOfWork(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlUnitOfWork]:
        async with connected(self.engine, read_only=True) as conn:
            yield SqlUnitOfWork(conn)

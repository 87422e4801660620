"""The SQL implementation of the ``Transaction`` port and of the embedded registry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    ApplicationRow,
    EventRow,
    OutboxRow,
    ReasonRow,
    SubscriberRow,
    UserRow,
)
from workflows.errors import OpenApplicationExists
from workflows.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Event,
    EventKind,
    Reason,
    ServiceState,
    Subscriber,
)
from workflows.ports import OutboxItem, Transaction, UserProfile

OUTBOX_PENDING = "pending"


def _reason(row: ReasonRow) -> Reason:
    return Reason(
        code=row.code,
        kind=ApplicationKind(row.kind),
        labels={"az": row.label_az, "ru": row.label_ru, "en": row.label_en},
    )


def _application(row: ApplicationRow, events: Sequence[EventRow] = ()) -> Application:
    return Application(
        number=row.number,
        kind=ApplicationKind(row.kind),
        status=ApplicationStatus(row.status),
        fin=row.fin,
        subscriber_code=row.subscriber_code,
        address=row.address,
        reason_code=row.reason_code,
        phone=row.phone,
        email=row.email,
        description=row.description,
        notes=row.notes,
        locale=row.locale,
        telegram_user_id=row.telegram_user_id,
        chat_id=row.chat_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        taken_by_id=row.taken_by_id,
        taken_by_name=row.taken_by_name,
        taken_at=row.taken_at,
        closed_at=row.closed_at,
        result_note=row.result_note,
        last_reminder_at=row.last_reminder_at,
        events=tuple(
            Event(at=e.at, kind=EventKind(e.kind), actor=e.actor, note=e.note) for e in events
        ),
    )


class SqlTransaction(Transaction):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_profile(self, telegram_user_id: int) -> UserProfile | None:
        row = await self.session.get(UserRow, telegram_user_id)
        if row is None:
            return None
        return UserProfile(telegram_user_id=row.telegram_user_id, locale=row.locale, fin=row.fin)

    async def save_profile(self, profile: UserProfile, now: datetime) -> None:
        row = await self.session.get(UserRow, profile.telegram_user_id)
        if row is None:
            row = UserRow(telegram_user_id=profile.telegram_user_id)
            self.session.add(row)
        row.locale = profile.locale
        row.fin = profile.fin
        row.updated_at = now

    async def list_reasons(self, kind: ApplicationKind | None = None) -> Sequence[Reason]:
        stmt = select(ReasonRow).where(ReasonRow.active.is_(True)).order_by(ReasonRow.position)
        if kind is not None:
            stmt = stmt.where(ReasonRow.kind == kind.value)
        return [_reason(r) for r in (await self.session.scalars(stmt))]

    async def find_open_application(self, subscriber_code: str) -> int | None:
        stmt = select(ApplicationRow.number).where(ApplicationRow.open_lock == subscriber_code)
        return await self.session.scalar(stmt)

    async def add_application(self, app: Application) -> int:
        row = ApplicationRow(
            kind=app.kind.value,
            status=app.status.value,
            fin=app.fin,
            subscriber_code=app.subscriber_code,
            open_lock=app.subscriber_code,
            address=app.address,
            reason_code=app.reason_code,
            phone=app.phone,
            email=app.email,
            description=app.description,
            notes=app.notes,
            locale=app.locale,
            telegram_user_id=app.telegram_user_id,
            chat_id=app.chat_id,
            created_at=app.created_at,
            updated_at=app.updated_at,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError as exc:
            # The savepoint's rollback has usually detached the row already.
            if row in self.session:
                self.session.expunge(row)
            number = await self.find_open_application(app.subscriber_code)
            raise OpenApplicationExists(number or 0) from exc
        return row.number

    async def get_application(self, number: int, *, lock: bool = False) -> Application | None:
        stmt = select(ApplicationRow).where(ApplicationRow.number == number)
        if lock:
            stmt = stmt.with_for_update()
        row = await self.session.scalar(stmt)
        if row is None:
            return None
        events = await self.session.scalars(
            select(EventRow)
            .where(EventRow.application_number == number)
            .order_by(EventRow.at, EventRow.id)
        )
        return _application(row, list(events))

    async def list_applications(
        self,
        *,
        fin: str | None = None,
        subscriber_code: str | None = None,
        open_only: bool = False,
        oldest_first: bool = False,
        created_before: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Application]:
        stmt = select(ApplicationRow)
        if fin is not None:
            stmt = stmt.where(ApplicationRow.fin == fin)
        if subscriber_code is not None:
            stmt = stmt.where(ApplicationRow.subscriber_code == subscriber_code)
        if open_only:
            stmt = stmt.where(ApplicationRow.open_lock.is_not(None))
        if created_before is not None:
            stmt = stmt.where(ApplicationRow.created_at < created_before)
        order = ApplicationRow.number.asc() if oldest_first else ApplicationRow.number.desc()
        stmt = stmt.order_by(order).limit(limit).offset(offset)
        return [_application(r) for r in await self.session.scalars(stmt)]

    async def update_application(self, app: Application) -> None:
        await self.session.execute(
            update(ApplicationRow)
            .where(ApplicationRow.number == app.number)
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
            )
        )

    async def add_event(self, number: int, event: Event) -> None:
        self.session.add(
            EventRow(
                application_number=number,
                at=event.at,
                kind=event.kind.value,
                actor=event.actor,
                note=event.note,
            )
        )

    async def set_service_state(self, subscriber_code: str, state: ServiceState) -> None:
        await self.session.execute(
            update(SubscriberRow)
            .where(SubscriberRow.code == subscriber_code)
            .values(service_state=state.value)
        )

    async def enqueue(self, item: OutboxItem, now: datetime) -> None:
        exists = await self.session.scalar(
            select(OutboxRow.id).where(OutboxRow.dedupe_key == item.dedupe_key)
        )
        if exists is not None:
            return
        self.session.add(
            OutboxRow(
                created_at=now,
                kind=item.kind,
                channel=item.channel,
                recipient=item.recipient,
                dedupe_key=item.dedupe_key,
                application_number=item.application_number,
                payload=item.payload,
                status=OUTBOX_PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )

    async def commit(self) -> None:
        await self.session.commit()


class SqlTransactionFactory:
    """``async with factory() as tx`` opens a session; leaving without commit rolls back."""

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.session_factory = session_factory

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlTransaction]:
        async with self.session_factory() as session:
            yield SqlTransaction(session)


class SqlSubscriberRegistry:
    """The embedded registry: the ``subscribers`` table filled by ``import-subscribers``."""

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.session_factory = session_factory

    async def lookup(self, code: str) -> Subscriber | None:
        async with self.session_factory() as session:
            row = await session.get(SubscriberRow, code)
            if row is None:
                return None
            return Subscriber(
                code=row.code,
                meterless=row.meterless,
                debt=Decimal(row.debt_azn),
                state=ServiceState(row.service_state),
                address=row.address,
                owner_fin=row.owner_fin,
            )

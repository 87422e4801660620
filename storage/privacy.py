"""Erasure and retention of personal data (``workflows.privacy``), on the unit of work's
connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, Update, bindparam, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    ApplicationRow,
    EventRow,
    OidcStateRow,
    OutboxRow,
    ProbeRow,
    UserRow,
)
from storage.rows import application_of_row
from workflows.identity import account_subject
from workflows.models import Application
from workflows.outbox.records import OutboxKind, OutboxStatus
from workflows.ports import PersonalData

applications: Table = ApplicationRow.__table__  # type: ignore[assignment]
events: Table = EventRow.__table__  # type: ignore[assignment]
outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
users: Table = UserRow.__table__  # type: ignore[assignment]
oidc_states: Table = OidcStateRow.__table__  # type: ignore[assignment]
probes: Table = ProbeRow.__table__  # type: ignore[assignment]

# The outbox rows whose recipient is the applicant (a chat or an e-mail address).
APPLICANT_KINDS = (
    OutboxKind.NOTICE.value,
    OutboxKind.EMAIL.value,
    OutboxKind.CONFIRM_ASK.value,
    OutboxKind.RESTORE_OFFER.value,
)
# Why a pending message to an anonymised applicant was given up.
ERASED = "erased"

_ANONYMISE = (
    update(applications)
    .where(applications.c.number == bindparam("b_number"))
    .values(
        fin=bindparam("b_fin"),
        phone=bindparam("b_phone"),
        email=bindparam("b_email"),
        description=bindparam("b_description"),
        notes=bindparam("b_notes"),
        result_note=bindparam("b_result_note"),
        rating_comment=None,
        address=bindparam("b_address"),
        telegram_user_id=bindparam("b_account"),
        chat_id=bindparam("b_chat"),
        anonymised_at=bindparam("b_at"),
    )
)
_EVENTS = (
    update(events)
    .where(events.c.application_number == bindparam("b_number"))
    .values(
        note=None,
        actor=case((events.c.actor.like("tg:%"), bindparam("b_actor")), else_=events.c.actor),
    )
)
_PENDING = outbox.c.status == OutboxStatus.PENDING.value


def _outbox_of(numbers: Sequence[int]) -> Update:
    # Every SET expression reads the row as it was: a pending row fails with its reason.
    return (
        update(outbox)
        .where(outbox.c.application_number.in_(numbers), outbox.c.kind.in_(APPLICANT_KINDS))
        .values(
            recipient="",
            result=None,
            last_error=case((_PENDING, ERASED), else_=None),
            status=case((_PENDING, OutboxStatus.FAILED.value), else_=outbox.c.status),
            lease_owner=None,
            lease_until=None,
        )
    )


class SqlPersonalData(PersonalData):
    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def filed_by(self, telegram_user_id: int) -> Sequence[Application]:
        stmt = (
            select(applications)
            .where(applications.c.telegram_user_id == telegram_user_id)
            .order_by(applications.c.number.desc())
        )
        return [application_of_row(r) for r in await self._conn.execute(stmt)]

    async def closed_before(self, moment: datetime, *, limit: int) -> Sequence[Application]:
        stmt = (
            select(applications)
            .where(
                applications.c.closed_at < moment,
                applications.c.open_lock.is_(None),
                applications.c.anonymised_at.is_(None),
            )
            .order_by(applications.c.closed_at, applications.c.number)
            .limit(limit)
            # Two workers' retention runs take different rows (PostgreSQL; SQLite ignores it).
            .with_for_update(skip_locked=True)
        )
        return [application_of_row(r) for r in await self._conn.execute(stmt)]

    async def anonymise(self, apps: Sequence[Application], now: datetime) -> None:
        if not apps:
            return
        await self._conn.execute(
            _ANONYMISE,
            [
                {
                    "b_number": app.number,
                    "b_fin": app.fin,
                    "b_phone": app.phone,
                    "b_email": app.email,
                    "b_description": app.description,
                    "b_notes": app.notes,
                    "b_result_note": app.result_note,
                    "b_address": app.address,
                    "b_account": app.telegram_user_id,
                    "b_chat": app.chat_id,
                    "b_at": app.anonymised_at or now,
                }
                for app in apps
            ],
        )
        await self._conn.execute(
            _EVENTS,
            [
                {"b_number": app.number, "b_actor": account_subject(app.telegram_user_id)}
                for app in apps
            ],
        )
        await self._conn.execute(_outbox_of([app.number for app in apps]))

    async def erase_account(self, telegram_user_id: int) -> None:
        await self._conn.execute(delete(users).where(users.c.telegram_user_id == telegram_user_id))
        await self._conn.execute(
            delete(oidc_states).where(oidc_states.c.telegram_user_id == telegram_user_id)
        )

    async def purge_expired(self, now: datetime, *, probes_before: str) -> int:
        logins = await self._conn.execute(
            delete(oidc_states).where(oidc_states.c.expires_at < now)
        )
        counters = await self._conn.execute(delete(probes).where(probes.c.day < probes_before))
        return int(logins.rowcount or 0) + int(counters.rowcount or 0)

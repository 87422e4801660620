"""The citizen's own data: what the bot holds about an account (``/mydata``), its erasure
(``/forget``) and the retention of closed applications.

- ``/mydata`` shows the profile (remembered FIN, language, the phone Telegram verified), the
  FINs the account proved, and every application the account may see (``workflows.identity``:
  its own filings and those of the FINs it proved), each with every field and its history.
- ``/forget`` erases the account's own data in one unit of work: its closed applications are
  anonymised, its profile, its proofs and its pending e-gov logins are deleted, and one audit
  event records the erasure with counts only. While an application it filed is open, nothing
  is erased: the staff need the data to finish the work order.
- Retention: applications closed more than ``RETENTION_DAYS`` ago are anonymised, in
  batches, with one audit event per run giving the count.

Anonymising keeps what the utility's records need (number, kind, status, subscriber code,
reason, dates, who on the staff handled it) and replaces what identifies the applicant:
FIN, phone, e-mail, description, notes, the staff's note (it may quote the applicant), the
subscriber's comment on a rating (and every event's note, the comment on a reopening), the
address beyond city and district, and the account and chat, so that the row is nobody's
filing any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from workflows.clock import BAKU
from workflows.errors import OpenApplicationsPending
from workflows.identity import AuditAction, AuditEvent, Verification, account_subject, address_area
from workflows.models import Application
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import Clock, OutboxItem, TransactionFactory, UnitOfWork, UserProfile

# ``applications.fin`` is NOT NULL: a placeholder no FIN can equal (a FIN has no hyphen), so
# an anonymised row never matches a FIN typed, proved or looked up.
ERASED_FIN = "-------"
# The account and chat of an anonymised application: no Telegram id is 0.
NOBODY = 0
RETENTION_BATCH = 500
# A run anonymises at most this many batches; the next run goes on.
MAX_BATCHES = 100
# The applications /mydata lists (a citizen has a handful).
MY_DATA_LIMIT = 500
# Probe counters count per day (Baku): the limits read today's; older days are kept this long.
PROBES_KEPT = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class MyData:
    """Everything stored about an account; ``applications`` newest first, with events."""

    account: int
    profile: UserProfile | None
    verifications: tuple[Verification, ...]
    applications: tuple[Application, ...]

    @property
    def empty(self) -> bool:
        profile = self.profile
        stored = profile is not None and bool(
            profile.fin or profile.locale or profile.verified_phone
        )
        return not (stored or self.verifications or self.applications)


@dataclass(frozen=True, slots=True)
class ForgetResult:
    anonymised: int
    verifications: int


def anonymised(app: Application, now: datetime) -> Application:
    """``app`` without what identifies the applicant (see the module docstring)."""
    return replace(
        app,
        fin=ERASED_FIN,
        phone="",
        email="",
        description="",
        notes=None,
        result_note=None,
        rating_comment=None,
        address=address_area(app.address),
        telegram_user_id=NOBODY,
        chat_id=NOBODY,
        anonymised_at=now,
    )


def card_edit_item(number: int, staff_chat_id: int) -> OutboxItem:
    """The staff card shown again, anonymised like its application."""
    return OutboxItem(
        kind=OutboxKind.STAFF_CARD_EDIT,
        channel=Channel.TELEGRAM,
        recipient=str(staff_chat_id),
        dedupe_key=f"card_edit:{number}:erased",
        application_number=number,
    )


@dataclass(slots=True)
class Privacy:
    transactions: TransactionFactory
    clock: Clock
    staff_chat_id: int

    async def my_data(self, account: int) -> MyData:
        async with self.transactions.read() as uow:
            profile = await uow.profiles.get(account)
            verified = tuple(await uow.verifications.of_account(account))
            listed = await uow.applications.visible_to(
                account, [v.fin for v in verified], limit=MY_DATA_LIMIT
            )
            apps = [await uow.applications.get(app.number) for app in listed]
        return MyData(account, profile, verified, tuple(a for a in apps if a is not None))

    async def open_filings(self, account: int) -> tuple[int, ...]:
        """The numbers of the applications the account filed that are still open."""
        async with self.transactions.read() as uow:
            return _open(await uow.personal.filed_by(account))

    async def forget(self, account: int) -> ForgetResult:
        """Erase the account's own data (module docstring); OpenApplicationsPending while an
        application it filed is open."""
        now = self.clock.now()
        async with self.transactions() as uow:
            filed = await uow.personal.filed_by(account)
            pending = _open(filed)
            if pending:
                raise OpenApplicationsPending(pending)
            apps = [anonymised(a, now) for a in filed if a.anonymised_at is None]
            if apps:
                await uow.personal.anonymise(apps, now)
            for app in apps:
                await uow.outbox.enqueue(card_edit_item(app.number, self.staff_chat_id), now)
            dropped = await uow.verifications.drop(account)
            await uow.personal.erase_account(account)
            subject = account_subject(account)
            detail = f"applications={len(apps)} verifications={dropped}"
            await uow.audit.record(AuditEvent(now, subject, AuditAction.ERASED, subject, detail))
            await uow.commit()
        return ForgetResult(anonymised=len(apps), verifications=dropped)

    async def retention(self, *, days: float, batch: int = RETENTION_BATCH) -> int:
        """Anonymise the applications closed more than ``days`` ago, ``batch`` per unit of
        work (at most ``MAX_BATCHES``); one audit event gives the count. Returns it."""
        if days <= 0 or batch <= 0:
            raise ValueError("days and batch must be positive")
        now = self.clock.now()
        cutoff = now - timedelta(days=days)
        total = 0
        try:
            for _ in range(MAX_BATCHES):
                async with self.transactions() as uow:
                    due = await uow.personal.closed_before(cutoff, limit=batch)
                    if due:
                        await uow.personal.anonymise([anonymised(a, now) for a in due], now)
                        await uow.commit()
                total += len(due)
                if len(due) < batch:
                    break
        finally:
            if total:
                async with self.transactions() as uow:
                    await _record_retention(uow, now, total)
                    await uow.commit()
        return total

    async def purge_expired(self) -> int:
        """Delete expired e-gov logins and probe counters of past days; returns the count."""
        now = self.clock.now()
        kept_from = (now.astimezone(BAKU) - PROBES_KEPT).date().isoformat()
        async with self.transactions() as uow:
            purged = await uow.personal.purge_expired(now, probes_before=kept_from)
            await uow.commit()
        return purged


def _open(apps: Sequence[Application]) -> tuple[int, ...]:
    return tuple(sorted(a.number for a in apps if a.status.is_open))


async def _record_retention(uow: UnitOfWork, now: datetime, count: int) -> None:
    await uow.audit.record(
        AuditEvent(now, "system:retention", AuditAction.RETENTION, None, str(count))
    )

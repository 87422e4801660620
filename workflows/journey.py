"""The subscriber's use cases: the checks of the manual, registration and status.

Rules (from the utility's manual):
- Only meterless subscribers may apply through the service.
- The reason is chosen from the catalogue; it must fit the service state
  (suspension while active, restoration while suspended).
- A subscriber with a debt is stopped with the manual's warning; nothing is registered.
- Without a debt the application and its work order are registered in one transaction,
  together with the staff card the outbox owes.
- A suspension may say until when (``workflows.until``): the date is checked again at
  registration; a restoration keeps none.
- An account sees the applications it filed, and those of a FIN it proved
  (``workflows.identity``); anything else is "not found", like a gap in the numbers.
- Before the account proved a code's owner FIN, the code step tells only what the manual
  needs: no application number, no debt amount, no more of the address than city and
  district. A code with no owner FIN on record needs the account's Telegram-verified phone to
  be the code's phone on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from workflows.errors import (
    ApplicationNotFound,
    DebtOutstanding,
    IdentityRequired,
    MeteredSubscriber,
    OpenApplicationExists,
    OwnerMismatch,
    OwnerUnknown,
    ReasonNotAllowed,
    SubscriberNotFound,
)
from workflows.identity import IdentityMethod, Verification, Viewer, address_area
from workflows.models import (
    Application,
    ApplicationKind,
    Draft,
    Event,
    EventKind,
    Reason,
    Subscriber,
)
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import (
    Clock,
    OutboxItem,
    SubscriberRegistry,
    TransactionFactory,
    UnitOfWork,
    UserProfile,
)
from workflows.proofs import record_verification
from workflows.until import DEFAULT_MAX_DAYS, check_until_iso


def staff_card_item(number: int, staff_chat_id: int) -> OutboxItem:
    return OutboxItem(
        kind=OutboxKind.STAFF_CARD,
        channel=Channel.TELEGRAM,
        recipient=str(staff_chat_id),
        dedupe_key=f"card:{number}",
        application_number=number,
    )


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """A code the applicant may apply for: the registry's record as this account may see it
    (``disclosed``: the account proved the owner FIN, so the full address), and how the
    account is identified for it."""

    subscriber: Subscriber
    disclosed: bool
    identified_by: IdentityMethod


@dataclass(frozen=True, slots=True)
class Seen:
    """An application as a viewer sees it: ``disclosed`` when the viewer proved its FIN."""

    application: Application
    disclosed: bool


@dataclass(slots=True)
class Journey:
    """Everything a subscriber can do; each call opens its own unit of work when needed."""

    registry: SubscriberRegistry
    transactions: TransactionFactory
    clock: Clock
    staff_chat_id: int
    # REQUIRE_VERIFIED_IDENTITY: refuse every filing of an account that did not prove the FIN.
    require_verified: bool = False
    # The reason catalogue is read on every render of two windows but changes only when an
    # operator edits the table: keep it for a minute instead of a query per render.
    reasons_ttl: timedelta = timedelta(seconds=60)
    # WORK_ORDER_DEADLINE_HOURS: the due time of an order whose reason has no deadline.
    deadline: timedelta = timedelta(hours=72)
    # SUSPEND_UNTIL_MAX_DAYS: how far ahead a suspension's "until" date may be.
    suspend_until_max_days: int = DEFAULT_MAX_DAYS
    _reasons: tuple[datetime, Sequence[Reason]] | None = field(default=None, repr=False)

    # --- profile -----------------------------------------------------------------------
    async def profile(self, telegram_user_id: int) -> UserProfile:
        async with self.transactions.read() as uow:
            found = await uow.profiles.get(telegram_user_id)
        return found or UserProfile(telegram_user_id=telegram_user_id)

    async def save_profile(self, profile: UserProfile) -> None:
        async with self.transactions() as uow:
            await uow.profiles.save(profile, self.clock.now())
            await uow.commit()

    async def viewer(self, telegram_user_id: int) -> Viewer:
        """The account with the FINs it proved and its Telegram-verified phone."""
        async with self.transactions.read() as uow:
            verified = await uow.verifications.of_account(telegram_user_id)
            profile = await uow.profiles.get(telegram_user_id)
        phone = profile.verified_phone if profile else None
        return Viewer(telegram_user_id, tuple(verified), phone)

    # --- the checks --------------------------------------------------------------------
    async def check_subscriber(self, code: str, fin: str, account: int) -> CodeCheck:
        """Tell every refusal at the first step, so nobody fills the form in vain; what the
        refusals and the answer hold depends on what the account proved."""
        viewer = await self.viewer(account)
        subscriber = await self._registered_subscriber(code, fin)
        check = await self._identify(viewer, subscriber, fin)
        async with self.transactions.read() as uow:
            number = await uow.applications.open_number(code)
            if number is not None:
                raise OpenApplicationExists(await _told(uow, number, viewer, check))
        if subscriber.has_debt:
            raise DebtOutstanding(code, subscriber.debt if check.disclosed else None)
        return check

    async def _registered_subscriber(self, code: str, fin: str) -> Subscriber:
        subscriber = await self.registry.lookup(code)
        if subscriber is None:
            raise SubscriberNotFound(code)
        if not subscriber.meterless:
            raise MeteredSubscriber(code)
        if subscriber.owner_fin and subscriber.owner_fin != fin:
            raise OwnerMismatch(code)
        return subscriber

    async def _identify(self, viewer: Viewer, subscriber: Subscriber, fin: str) -> CodeCheck:
        """How the account is identified for this code; a phone match proves the owner FIN
        on the way (and is stored, so the status section shows that FIN's applications)."""
        method = viewer.method_for(subscriber.owner_fin)
        if method is None and viewer.phone_matches(subscriber):
            method = IdentityMethod.PHONE
            if subscriber.owner_fin:
                await self._verify(viewer.account, subscriber.owner_fin, method)
        if subscriber.owner_fin is None and method is None:
            raise OwnerUnknown(subscriber.code)
        if method is None and self.require_verified:
            raise IdentityRequired(subscriber.code)
        disclosed = method is not None
        shown = subscriber if disclosed else _area_only(subscriber)
        return CodeCheck(shown, disclosed, method or IdentityMethod.TYPED)

    async def _verify(self, account: int, fin: str, method: IdentityMethod) -> None:
        async with self.transactions() as uow:
            await record_verification(uow, Verification(account, fin, method, self.clock.now()))
            await uow.commit()

    async def reasons(self, kind: ApplicationKind) -> Sequence[Reason]:
        return [r for r in await self.all_reasons() if r.kind is kind]

    async def all_reasons(self) -> Sequence[Reason]:
        now = self.clock.now()
        if self._reasons is not None and now - self._reasons[0] < self.reasons_ttl:
            return self._reasons[1]
        async with self.transactions.read() as uow:
            reasons = tuple(await uow.reasons.active())
        self._reasons = (now, reasons)
        return reasons

    # --- registration ------------------------------------------------------------------
    async def submit(self, draft: Draft) -> int:
        """ "Davam et": ask the registry again, then register or refuse; returns the number.

        The open-application rule is the database's unique constraint, not a query first:
        it also holds for two submits at once, and costs the common case nothing.
        """
        code = draft.subscriber_code
        subscriber = await self._registered_subscriber(code, draft.fin)
        viewer = await self.viewer(draft.telegram_user_id)
        check = await self._identify(viewer, subscriber, draft.fin)
        if subscriber.has_debt:
            raise DebtOutstanding(code, subscriber.debt if check.disclosed else None)
        kind = ApplicationKind.for_state(subscriber.state)
        reason = {r.code: r for r in await self.reasons(kind)}.get(draft.reason_code)
        if reason is None:
            raise ReasonNotAllowed(draft.reason_code)
        now = self.clock.now()
        until = draft.suspend_until if kind is ApplicationKind.SUSPEND else None
        if until is not None:  # raises UntilNotAllowed: the day came while the draft waited
            until = check_until_iso(until, now, self.suspend_until_max_days)
        app = Application.register(
            replace(draft, suspend_until=until),
            kind=kind,
            address=subscriber.address,
            at=now,
            identified_by=check.identified_by.value,
        )
        app = replace(app, due_at=now + reason_deadline(reason, self.deadline))
        try:
            async with self.transactions() as uow:
                number = await uow.applications.add(app)
                await uow.applications.add_event(
                    number,
                    Event(at=now, kind=EventKind.REGISTERED, actor=f"tg:{draft.telegram_user_id}"),
                )
                await uow.outbox.enqueue(staff_card_item(number, self.staff_chat_id), now)
                await uow.commit()
        except OpenApplicationExists as exc:
            if exc.number:
                raise
            async with self.transactions.read() as uow:
                open_number = await uow.applications.open_number(code)
                shown = await _told(uow, open_number, viewer, check) if open_number else 0
            raise OpenApplicationExists(shown) from exc
        return number

    # --- status ------------------------------------------------------------------------
    async def applications_of(self, account: int, *, limit: int = 20) -> Sequence[Application]:
        """What the account filed, and every application of the FINs it proved."""
        viewer = await self.viewer(account)
        async with self.transactions.read() as uow:
            return await uow.applications.visible_to(account, viewer.fins, limit=limit)

    async def application_of(self, account: int, number: int) -> Seen:
        """One application with its history, if the account may see it; any other is "not
        found", exactly like a number that does not exist."""
        viewer = await self.viewer(account)
        async with self.transactions.read() as uow:
            app = await uow.applications.get(number)
        if app is None or not viewer.may_see(app):
            raise ApplicationNotFound(number)
        return Seen(app, viewer.owns(app.fin))


def reason_deadline(reason: Reason, default: timedelta) -> timedelta:
    """The reason's own deadline (the catalogue's hours), else the global default."""
    if reason.deadline_hours is None:
        return default
    return timedelta(hours=reason.deadline_hours)


async def _told(uow: UnitOfWork, number: int, viewer: Viewer, check: CodeCheck) -> int:
    """The open application's number as this account may be told it: when it proved the
    owner FIN or filed that application itself; else 0."""
    if check.disclosed:
        return number
    app = await uow.applications.get(number)
    return number if app is not None and viewer.may_see(app) else 0


def _area_only(subscriber: Subscriber) -> Subscriber:
    """The record with the address cut to city and district, and no phone or owner FIN."""
    return replace(subscriber, address=address_area(subscriber.address), phone=None)

"""The subscriber's use cases: the checks of the manual, registration and status.

Rules (from the utility's manual):
- Only meterless subscribers may apply through the service.
- The reason is chosen from the catalogue; it must fit the service state
  (suspension while active, restoration while suspended).
- A subscriber with a debt is stopped with the manual's warning; nothing is registered.
- Without a debt the application and its work order are registered in one transaction,
  together with the staff card the outbox owes.
- Nobody sees an application of another FIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.errors import (
    ApplicationNotFound,
    DebtOutstanding,
    MeteredSubscriber,
    OpenApplicationExists,
    OwnerMismatch,
    ReasonNotAllowed,
    SubscriberNotFound,
)
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
    UserProfile,
)


def staff_card_item(number: int, staff_chat_id: int) -> OutboxItem:
    return OutboxItem(
        kind=OutboxKind.STAFF_CARD,
        channel=Channel.TELEGRAM,
        recipient=str(staff_chat_id),
        dedupe_key=f"card:{number}",
        application_number=number,
    )


@dataclass(slots=True)
class Journey:
    """Everything a subscriber can do; each call opens its own unit of work when needed."""

    registry: SubscriberRegistry
    transactions: TransactionFactory
    clock: Clock
    staff_chat_id: int
    # The reason catalogue is read on every render of two windows but changes only when an
    # operator edits the table: keep it for a minute instead of a query per render.
    reasons_ttl: timedelta = timedelta(seconds=60)
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

    # --- the checks --------------------------------------------------------------------
    async def check_subscriber(self, code: str, fin: str) -> Subscriber:
        """Tell every refusal at the first step, so nobody fills the form in vain."""
        subscriber = await self._registered_subscriber(code, fin)
        async with self.transactions.read() as uow:
            number = await uow.applications.open_number(code)
        if number is not None:
            raise OpenApplicationExists(number)
        if subscriber.has_debt:
            raise DebtOutstanding(code, subscriber.debt)
        return subscriber

    async def _registered_subscriber(self, code: str, fin: str) -> Subscriber:
        subscriber = await self.registry.lookup(code)
        if subscriber is None:
            raise SubscriberNotFound(code)
        if not subscriber.meterless:
            raise MeteredSubscriber(code)
        if subscriber.owner_fin and subscriber.owner_fin != fin:
            raise OwnerMismatch(code)
        return subscriber

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
        if subscriber.has_debt:
            raise DebtOutstanding(code, subscriber.debt)
        kind = ApplicationKind.for_state(subscriber.state)
        if draft.reason_code not in {r.code for r in await self.reasons(kind)}:
            raise ReasonNotAllowed(draft.reason_code)
        now = self.clock.now()
        app = Application.register(draft, kind=kind, address=subscriber.address, at=now)
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
            raise OpenApplicationExists(open_number or 0) from exc
        return number

    # --- status ------------------------------------------------------------------------
    async def applications_of(self, fin: str, *, limit: int = 20) -> Sequence[Application]:
        async with self.transactions.read() as uow:
            return await uow.applications.of_fin(fin, limit=limit)

    async def application_of(self, fin: str, number: int) -> Application:
        """One application with its history; another FIN's is "not found", like a gap."""
        async with self.transactions.read() as uow:
            app = await uow.applications.get(number)
        if app is None or app.fin != fin:
            raise ApplicationNotFound(number)
        return app

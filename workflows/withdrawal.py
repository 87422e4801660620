"""Withdrawal of an open application by its subscriber (issue 19, item 5).

Rules:
- Only an account that may see the application (it filed it, or proved its FIN:
  ``Journey.application_of``) may withdraw it; any other number is "not found".
- Registered (nobody took it yet): withdrawn at once; the staff card is edited to say so.
- Taken: the press becomes a withdrawal request on the card; the staff accept it (the order
  is withdrawn) or decline it (the work goes on, the subscriber is told). One request per
  order: after a decline the subscriber cannot ask again.
- A second press, or a press on a closed order, changes nothing (``WithdrawOutcome``).
- Once withdrawn, nothing more is sent for the order: the outbox rows of it not yet sent,
  except the staff card and its edits, are dropped in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from workflows.errors import AlreadyClosed, ApplicationNotFound, WorkOrderError
from workflows.journey import Journey
from workflows.models import Application, ApplicationStatus, Event, EventKind, StaffMember
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import Clock, OutboxItem, TransactionFactory, UnitOfWork

# What a withdrawal keeps in the outbox: the staff card (it says "withdrawn" when sent).
KEPT_KINDS = frozenset({OutboxKind.STAFF_CARD.value, OutboxKind.STAFF_CARD_EDIT.value})
DROPPED_NOTE = "withdrawn: not sent"


class WithdrawOutcome(StrEnum):
    WITHDRAWN = "withdrawn"  # done now (nobody had taken it)
    REQUESTED = "requested"  # taken: the staff are asked
    ALREADY_REQUESTED = "already_requested"  # a second press while the request waits
    DECLINED_BEFORE = "declined_before"  # the staff declined a request already
    CLOSED = "closed"  # done, rejected or withdrawn already: nothing to do


class NoWithdrawalRequest(WorkOrderError):
    """Accept/Decline on an order with no pending withdrawal request."""


def withdraw_pending(app: Application) -> bool:
    """A withdrawal request waits for the staff."""
    return app.status.is_open and app.withdraw_requested_at is not None


def was_declined(app: Application) -> bool:
    return any(e.kind is EventKind.WITHDRAW_DECLINED for e in app.events)


def may_withdraw(app: Application) -> bool:
    """Whether the status view offers "Withdraw" for this application."""
    return app.status.is_open and not withdraw_pending(app) and not was_declined(app)


def _card_edit(number: int, staff_chat_id: int, key: str) -> OutboxItem:
    return OutboxItem(
        kind=OutboxKind.STAFF_CARD_EDIT,
        channel=Channel.TELEGRAM,
        recipient=str(staff_chat_id),
        dedupe_key=f"card_edit:{number}:{key}",
        application_number=number,
    )


@dataclass(slots=True)
class Withdrawals:
    journey: Journey
    transactions: TransactionFactory
    clock: Clock
    staff_chat_id: int

    async def _load(self, uow: UnitOfWork, number: int) -> Application:
        app = await uow.applications.get(number, lock=True)
        if app is None:
            raise ApplicationNotFound(number)
        return app

    # --- the subscriber ----------------------------------------------------------------
    async def withdraw(self, account: int, number: int) -> WithdrawOutcome:
        """The subscriber confirmed "Withdraw"; raises ApplicationNotFound for a number the
        account may not see."""
        await self.journey.application_of(account, number)
        now = self.clock.now()
        actor = f"tg:{account}"
        async with self.transactions() as uow:
            app = await self._load(uow, number)
            if not app.status.is_open:
                return WithdrawOutcome.CLOSED
            if withdraw_pending(app):
                return WithdrawOutcome.ALREADY_REQUESTED
            if was_declined(app):
                return WithdrawOutcome.DECLINED_BEFORE
            if app.status is ApplicationStatus.REGISTERED:
                await self._withdrawn(uow, app, now, actor)
                outcome = WithdrawOutcome.WITHDRAWN
            else:
                await uow.applications.update(
                    replace(app, withdraw_requested_at=now, updated_at=now)
                )
                await uow.applications.add_event(
                    number, Event(at=now, kind=EventKind.WITHDRAW_REQUESTED, actor=actor)
                )
                await uow.outbox.enqueue(
                    _card_edit(number, self.staff_chat_id, EventKind.WITHDRAW_REQUESTED.value),
                    now,
                )
                outcome = WithdrawOutcome.REQUESTED
            await uow.commit()
        return outcome

    async def _withdrawn(
        self, uow: UnitOfWork, app: Application, now: datetime, actor: str
    ) -> Application:
        updated = replace(
            app,
            status=ApplicationStatus.WITHDRAWN,
            closed_at=now,
            updated_at=now,
            withdraw_requested_at=None,
        )
        await uow.applications.update(updated)
        await uow.applications.add_event(
            app.number, Event(at=now, kind=EventKind.WITHDRAWN, actor=actor)
        )
        await uow.outbox.drop_pending(app.number, keep=KEPT_KINDS, note=DROPPED_NOTE, now=now)
        await uow.outbox.enqueue(
            _card_edit(app.number, self.staff_chat_id, EventKind.WITHDRAWN.value), now
        )
        return updated

    # --- the staff -----------------------------------------------------------------------
    async def _pending(self, uow: UnitOfWork, number: int) -> Application:
        app = await self._load(uow, number)
        if not app.status.is_open:
            raise AlreadyClosed(number, app.status.value, app.taken_by_name)
        if not withdraw_pending(app):
            raise NoWithdrawalRequest(number, app.status.value, app.taken_by_name)
        return app

    async def accept(self, number: int, staff: StaffMember) -> Application:
        """The staff accept the request: the order is withdrawn, and the subscriber, who
        asked and waits, is told so in Telegram (the one message after the withdrawal; no
        e-mail)."""
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._pending(uow, number)
            updated = await self._withdrawn(uow, app, now, _staff_actor(staff))
            await uow.outbox.enqueue(_notice(app, EventKind.WITHDRAWN), now)
            await uow.commit()
        return updated

    async def decline(self, number: int, staff: StaffMember) -> Application:
        """The staff decline the request: the work goes on; the subscriber is told."""
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._pending(uow, number)
            updated = replace(app, withdraw_requested_at=None, updated_at=now)
            await uow.applications.update(updated)
            event = EventKind.WITHDRAW_DECLINED
            await uow.applications.add_event(
                number, Event(at=now, kind=event, actor=_staff_actor(staff))
            )
            await uow.outbox.enqueue(_card_edit(number, self.staff_chat_id, event.value), now)
            await uow.outbox.enqueue(_notice(app, event), now)
            await uow.commit()
        return updated


def _notice(app: Application, event: EventKind) -> OutboxItem:
    """The subscriber's Telegram notice of the staff's answer to a withdrawal request."""
    return OutboxItem(
        kind=OutboxKind.NOTICE,
        channel=Channel.TELEGRAM,
        recipient=str(app.chat_id),
        dedupe_key=f"notice:{app.number}:{event.value}",
        application_number=app.number,
        payload={"event": event.value},
    )


def _staff_actor(staff: StaffMember) -> str:
    return f"staff:{staff.user_id}:{staff.name}"

"""The staff's use cases: take, complete or reject a work order; remind overdue ones.

Rules:
- registered -> taken (Take) -> done (Done, with a result note) or rejected (Reject, with a
  reason). A registered order may also be rejected; Done needs Take first.
- Once taken, only the person who took it can close it. A second press, or a press on a
  closed order, changes nothing and says so (the error carries the current state).
- Every change is an event; it owes the outbox an edit of the staff card, a Telegram notice
  to the subscriber and, on done or rejected, the completion e-mail.
- Done records the new service state in the registry (suspended after a suspension).
- Open orders past the deadline are reminded at most once per interval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from workflows.citizen import confirmation_items
from workflows.errors import (
    AlreadyClosed,
    AlreadyTaken,
    ApplicationNotFound,
    NotTakenYet,
    TakenByAnother,
)
from workflows.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Event,
    EventKind,
    ServiceState,
    StaffMember,
)
from workflows.outbox.records import Channel, OutboxKind
from workflows.planning import check_plan, planned_messages, times_set
from workflows.ports import Clock, OutboxItem, TransactionFactory, UnitOfWork

# The whole state table in one place.
ALLOWED: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.REGISTERED: frozenset({ApplicationStatus.TAKEN, ApplicationStatus.REJECTED}),
    ApplicationStatus.TAKEN: frozenset({ApplicationStatus.DONE, ApplicationStatus.REJECTED}),
    ApplicationStatus.DONE: frozenset(),
    ApplicationStatus.REJECTED: frozenset(),
    ApplicationStatus.WITHDRAWN: frozenset(),
}


def owed_messages(app: Application, staff_chat_id: int, event: EventKind) -> list[OutboxItem]:
    """What a status change owes: the card edit, the subscriber notice, maybe an e-mail."""
    n = app.number
    # A reopened order is done (or rejected) again: its messages are owed anew.
    again = f":{app.reopened_count}" if app.reopened_count else ""
    items = [
        OutboxItem(
            kind=OutboxKind.STAFF_CARD_EDIT,
            channel=Channel.TELEGRAM,
            recipient=str(staff_chat_id),
            dedupe_key=f"card_edit:{n}:{event.value}{again}",
            application_number=n,
        ),
        OutboxItem(
            kind=OutboxKind.NOTICE,
            channel=Channel.TELEGRAM,
            recipient=str(app.chat_id),
            dedupe_key=f"notice:{n}:{event.value}{again}",
            application_number=n,
            payload={"event": event.value},
        ),
    ]
    if event in (EventKind.DONE, EventKind.REJECTED):
        items.append(
            OutboxItem(
                kind=OutboxKind.EMAIL,
                channel=Channel.EMAIL,
                recipient=app.email,
                dedupe_key=f"email:{n}:{event.value}{again}",
                application_number=n,
                payload={"event": event.value},
            )
        )
    return items


@dataclass(slots=True)
class WorkOrders:
    transactions: TransactionFactory
    clock: Clock
    staff_chat_id: int

    async def _load(self, uow: UnitOfWork, number: int) -> Application:
        app = await uow.applications.get(number, lock=True)
        if app is None:
            raise ApplicationNotFound(number)
        return app

    def _check(self, app: Application, target: ApplicationStatus, staff: StaffMember) -> None:
        if not app.status.is_open:
            raise AlreadyClosed(app.number, app.status.value, app.taken_by_name)
        if app.status is ApplicationStatus.TAKEN:
            if target is ApplicationStatus.TAKEN:
                if app.taken_by_id == staff.user_id:
                    raise AlreadyTaken(app.number, app.status.value, app.taken_by_name)
                raise TakenByAnother(app.number, app.status.value, app.taken_by_name)
            if app.taken_by_id != staff.user_id:
                raise TakenByAnother(app.number, app.status.value, app.taken_by_name)
        if target not in ALLOWED[app.status]:
            raise NotTakenYet(app.number, app.status.value)

    async def check(self, number: int, target: ApplicationStatus, staff: StaffMember) -> None:
        """Raise now if the action would be refused (before asking for a note)."""
        async with self.transactions() as uow:
            self._check(await self._load(uow, number), target, staff)

    async def _change(
        self,
        number: int,
        target: ApplicationStatus,
        staff: StaffMember,
        note: str | None,
        photo_file_id: str | None = None,
    ) -> Application:
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._load(uow, number)
            self._check(app, target, staff)
            changes: dict[str, object] = {"status": target, "updated_at": now}
            if target is ApplicationStatus.TAKEN:
                changes |= {
                    "taken_by_id": staff.user_id,
                    "taken_by_name": staff.name,
                    "taken_at": now,
                }
            else:
                changes |= {"closed_at": now, "result_note": note}
                if app.taken_by_id is None:
                    changes |= {"taken_by_id": staff.user_id, "taken_by_name": staff.name}
                if target is ApplicationStatus.DONE:  # the subscriber is asked (citizen.py)
                    changes |= {"confirm_asked_at": now, "citizen_answer": None}
            updated = replace(app, **changes)  # type: ignore[arg-type]
            await uow.applications.update(updated)
            event = EventKind(target.value)
            await uow.applications.add_event(
                number,
                Event(
                    at=now,
                    kind=event,
                    actor=f"staff:{staff.user_id}:{staff.name}",
                    note=note,
                    photo_file_id=photo_file_id,
                ),
            )
            if target is ApplicationStatus.DONE:
                new_state = (
                    ServiceState.SUSPENDED
                    if app.kind is ApplicationKind.SUSPEND
                    else ServiceState.ACTIVE
                )
                await uow.registry.set_service_state(app.subscriber_code, new_state)
            owed = owed_messages(updated, self.staff_chat_id, event)
            if target is ApplicationStatus.DONE:
                owed += confirmation_items(updated)
            for item in owed:
                await uow.outbox.enqueue(item, now)
            await uow.commit()
        return updated

    async def take(self, number: int, staff: StaffMember) -> Application:
        return await self._change(number, ApplicationStatus.TAKEN, staff, None)

    async def complete(
        self, number: int, staff: StaffMember, note: str, photo_file_id: str | None = None
    ) -> Application:
        """Done with the result note and, maybe, a photo (by Telegram file id) as proof."""
        return await self._change(number, ApplicationStatus.DONE, staff, note, photo_file_id)

    async def reject(self, number: int, staff: StaffMember, reason: str) -> Application:
        return await self._change(number, ApplicationStatus.REJECTED, staff, reason)

    async def plan(
        self, number: int, staff: StaffMember, day: date, window: str
    ) -> Application | None:
        """Set when the work will be done (``workflows.planning``); None when it already was
        exactly that (nothing changes, nothing is sent)."""
        now = self.clock.now()
        check_plan(day, window, now)
        async with self.transactions() as uow:
            app = await self._load(uow, number)
            self._check(app, ApplicationStatus.DONE, staff)  # taken, and by this person
            if (app.planned_date, app.planned_window) == (day.isoformat(), window):
                return None
            updated = replace(
                app, planned_date=day.isoformat(), planned_window=window, updated_at=now
            )
            await uow.applications.update(updated)
            await uow.applications.add_event(
                number,
                Event(
                    at=now,
                    kind=EventKind.PLANNED,
                    actor=f"staff:{staff.user_id}:{staff.name}",
                    note=f"{day.isoformat()} {window}",
                ),
            )
            for item in planned_messages(updated, self.staff_chat_id, times_set(app) + 1):
                await uow.outbox.enqueue(item, now)
            await uow.commit()
        return updated

    async def remind_overdue(self, deadline: timedelta, interval: timedelta) -> list[int]:
        """Enqueue a reminder for each open order past its due time (its reason's deadline;
        ``deadline`` for an order without one), once per interval."""
        now = self.clock.now()
        reminded: list[int] = []
        async with self.transactions() as uow:
            # Only the orders due a reminder, so a backlog of more than one batch of recently
            # reminded orders never starves the older ones behind it.
            overdue = await uow.applications.open_created_before(
                now - deadline, limit=500, reminded_before=now - interval, due_before=now
            )
            for app in overdue:
                period = int(now.timestamp() // interval.total_seconds())
                await uow.applications.update(replace(app, last_reminder_at=now))
                await uow.applications.add_event(
                    app.number, Event(at=now, kind=EventKind.REMINDED, actor="system")
                )
                await uow.outbox.enqueue(
                    OutboxItem(
                        kind=OutboxKind.REMINDER,
                        channel=Channel.TELEGRAM,
                        recipient=str(self.staff_chat_id),
                        # one key per interval: two workers reminding at once send one
                        dedupe_key=f"remind:{app.number}:{period}",
                        application_number=app.number,
                    ),
                    now,
                )
                reminded.append(app.number)
            await uow.commit()
        return reminded

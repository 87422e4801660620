"""The citizen's word after Done (issue 19, item 4): was the work really done, and how well.

Rules:
- Done asks the subscriber once (an outbox row, ``confirmation_items``): Yes or No.
- The question has a round, ``reopened_count`` at the time it was asked: a button of an
  older round, a second press, or a press on an order that is not done changes nothing.
- A press more than :data:`ANSWER_WINDOW` after the question is asked has expired; the
  order stays done, and nobody asks again.
- Yes: the answer is recorded (event CONFIRMED), then a rating of 1..5 (event RATED) and an
  optional short comment.
- No: after the optional comment, the order is reopened: back to TAKEN by the same staff
  member (the crew that knows the place), ``reopened_count`` + 1, the due time starts again,
  the registry's service state goes back, event REOPENED with the comment; the staff card is
  edited and a message tells the staff group why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from workflows.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Event,
    EventKind,
    ServiceState,
)
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import Clock, OutboxItem, TransactionFactory, UnitOfWork

ANSWER_WINDOW = timedelta(days=3)
COMMENT_MAX_LENGTH = 500
YES, NO = "yes", "no"
ACTOR = "subscriber"


class Outcome(StrEnum):
    OK = "ok"
    EXPIRED = "expired"  # asked more than ANSWER_WINDOW ago
    ALREADY = "already"  # answered, or a question of an older round, or not done any more
    NOT_FOUND = "not_found"  # no such order for this chat


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: Outcome
    app: Application | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def confirmation_items(app: Application) -> list[OutboxItem]:
    """What Done owes the subscriber besides the notice: the question (one per round)."""
    return [
        OutboxItem(
            kind=OutboxKind.CONFIRM_ASK,
            channel=Channel.TELEGRAM,
            recipient=str(app.chat_id),
            dedupe_key=f"confirm:{app.number}:{app.reopened_count}",
            application_number=app.number,
            payload={"round": app.reopened_count},
        )
    ]


@dataclass(slots=True)
class Citizen:
    transactions: TransactionFactory
    clock: Clock
    staff_chat_id: int
    # The due time of an order without one of its own (WORK_ORDER_DEADLINE_HOURS).
    deadline: timedelta

    async def _load(self, uow: UnitOfWork, number: int, chat_id: int) -> Application | None:
        app = await uow.applications.get(number, lock=True)
        if app is None or app.chat_id != chat_id:
            return None
        return app

    @staticmethod
    def _refused(app: Application | None, round_: int, now: datetime) -> Outcome | None:
        """Why a press on this question changes nothing, None when it may act."""
        if app is None:
            return Outcome.NOT_FOUND
        if app.status is not ApplicationStatus.DONE or app.reopened_count != round_:
            return Outcome.ALREADY
        asked = app.confirm_asked_at
        if asked is None or now - asked > ANSWER_WINDOW:
            return Outcome.EXPIRED
        return None

    def _card_edit(self, app: Application, what: str) -> OutboxItem:
        n = app.number
        return OutboxItem(
            kind=OutboxKind.STAFF_CARD_EDIT,
            channel=Channel.TELEGRAM,
            recipient=str(self.staff_chat_id),
            dedupe_key=f"card_edit:{n}:{what}:{app.reopened_count}",
            application_number=n,
        )

    async def may_answer(self, number: int, chat_id: int, round_: int) -> Answer:
        """Whether the Yes/No question can still be answered (before asking for a comment)."""
        async with self.transactions() as uow:
            app = await self._load(uow, number, chat_id)
        refused = self._refused(app, round_, self.clock.now())
        if refused is None and app is not None and app.citizen_answer is not None:
            refused = Outcome.ALREADY
        return Answer(refused or Outcome.OK, app)

    async def confirm(self, number: int, chat_id: int, round_: int) -> Answer:
        """Yes: the work was done."""
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._load(uow, number, chat_id)
            refused = self._refused(app, round_, now)
            if app is None or refused is not None or app.citizen_answer is not None:
                return Answer(refused or Outcome.ALREADY, app)
            updated = replace(app, citizen_answer=YES, updated_at=now)
            await uow.applications.update(updated)
            await uow.applications.add_event(
                number, Event(at=now, kind=EventKind.CONFIRMED, actor=ACTOR)
            )
            await uow.outbox.enqueue(self._card_edit(updated, "confirmed"), now)
            await uow.commit()
        return Answer(Outcome.OK, updated)

    async def rate(self, number: int, chat_id: int, round_: int, stars: int) -> Answer:
        """A rating of 1..5 after Yes; once."""
        if not 1 <= stars <= 5:
            return Answer(Outcome.NOT_FOUND)
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._load(uow, number, chat_id)
            refused = self._refused(app, round_, now)
            if app is None or refused is not None:
                return Answer(refused or Outcome.ALREADY, app)
            if app.citizen_answer != YES or app.rating is not None:
                return Answer(Outcome.ALREADY, app)
            updated = replace(app, rating=stars, updated_at=now)
            await uow.applications.update(updated)
            await uow.applications.add_event(
                number, Event(at=now, kind=EventKind.RATED, actor=ACTOR, note=str(stars))
            )
            await uow.outbox.enqueue(self._card_edit(updated, "rated"), now)
            await uow.commit()
        return Answer(Outcome.OK, updated)

    async def comment_rating(self, number: int, chat_id: int, round_: int, text: str) -> Answer:
        """The optional comment after a rating; once."""
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._load(uow, number, chat_id)
            refused = self._refused(app, round_, now)
            if app is None or refused is not None:
                return Answer(refused or Outcome.ALREADY, app)
            if app.rating is None or app.rating_comment is not None:
                return Answer(Outcome.ALREADY, app)
            updated = replace(app, rating_comment=text, updated_at=now)
            await uow.applications.update(updated)
            await uow.outbox.enqueue(self._card_edit(updated, "rating_comment"), now)
            await uow.commit()
        return Answer(Outcome.OK, updated)

    async def reopen(self, number: int, chat_id: int, round_: int, comment: str | None) -> Answer:
        """No: the work was not done; the order goes back to the one who took it."""
        now = self.clock.now()
        async with self.transactions() as uow:
            app = await self._load(uow, number, chat_id)
            refused = self._refused(app, round_, now)
            if app is None or refused is not None or app.citizen_answer is not None:
                return Answer(refused or Outcome.ALREADY, app)
            span = self.deadline
            if app.due_at is not None and app.due_at > app.created_at:
                span = app.due_at - app.created_at
            updated = replace(
                app,
                status=ApplicationStatus.TAKEN,
                citizen_answer=NO,
                reopened_count=app.reopened_count + 1,
                taken_at=now,
                closed_at=None,
                result_note=None,
                due_at=now + span,
                # Reminders count from registration: the next one waits an interval.
                last_reminder_at=now,
                updated_at=now,
            )
            await uow.applications.update(updated)
            await uow.applications.add_event(
                number, Event(at=now, kind=EventKind.REOPENED, actor=ACTOR, note=comment)
            )
            # Done set the state the work should have brought; it did not.
            before = (
                ServiceState.ACTIVE
                if app.kind is ApplicationKind.SUSPEND
                else ServiceState.SUSPENDED
            )
            await uow.registry.set_service_state(app.subscriber_code, before)
            await uow.outbox.enqueue(self._card_edit(updated, "reopened"), now)
            await uow.outbox.enqueue(
                OutboxItem(
                    kind=OutboxKind.STAFF_REOPENED,
                    channel=Channel.TELEGRAM,
                    recipient=str(self.staff_chat_id),
                    dedupe_key=f"reopened:{number}:{updated.reopened_count}",
                    application_number=number,
                    payload={"round": updated.reopened_count},
                ),
                now,
            )
            await uow.commit()
        return Answer(Outcome.OK, updated)

"""The planned date of a work order: when the crew will come (issue 19, item 1).

Rules:
- Only the staff member who took the order sets it, and only while it is taken.
- A date is a Baku calendar day from today to ``PLAN_AHEAD_DAYS`` days ahead, with a window:
  morning (09:00-13:00) or afternoon (14:00-18:00).
- Setting it is an event (``planned``) that owes a card edit and a notice to the subscriber.
  The same date and window again changes nothing and sends nothing; a different one
  notifies again (the dedupe keys carry how many times it was set, and the value).
"""

from __future__ import annotations

from datetime import date, datetime

from workflows.clock import BAKU
from workflows.errors import DomainError
from workflows.models import Application, EventKind
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import OutboxItem

PLAN_AHEAD_DAYS = 14
# window -> (from, to), Baku wall-clock times as shown to people
WINDOWS: dict[str, tuple[str, str]] = {
    "morning": ("09:00", "13:00"),
    "afternoon": ("14:00", "18:00"),
}


class PlanNotAllowed(DomainError):
    """A date out of range, or a window that does not exist."""


def baku_today(now: datetime) -> date:
    return now.astimezone(BAKU).date()


def check_plan(day: date, window: str, now: datetime) -> None:
    """Raise :class:`PlanNotAllowed` unless ``day`` and ``window`` may be planned ``now``."""
    ahead = (day - baku_today(now)).days
    if window not in WINDOWS or not 0 <= ahead <= PLAN_AHEAD_DAYS:
        raise PlanNotAllowed(day.isoformat(), window)


def times_set(app: Application) -> int:
    """How many times the date was set before (the events loaded with the application)."""
    return sum(1 for event in app.events if event.kind is EventKind.PLANNED)


def planned_messages(app: Application, staff_chat_id: int, serial: int) -> list[OutboxItem]:
    """What setting the date owes: the card edit and the subscriber's notice naming it."""
    n = app.number
    value = f"{serial}:{app.planned_date}:{app.planned_window}"
    return [
        OutboxItem(
            kind=OutboxKind.STAFF_CARD_EDIT,
            channel=Channel.TELEGRAM,
            recipient=str(staff_chat_id),
            dedupe_key=f"card_edit:{n}:planned:{value}",
            application_number=n,
        ),
        OutboxItem(
            kind=OutboxKind.NOTICE,
            channel=Channel.TELEGRAM,
            recipient=str(app.chat_id),
            dedupe_key=f"notice:{n}:planned:{value}",
            application_number=n,
            payload={
                "event": EventKind.PLANNED.value,
                "date": app.planned_date,
                "window": app.planned_window,
            },
        ),
    ]

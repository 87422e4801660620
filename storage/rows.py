"""Rows of ``applications`` and ``events`` as domain records, for every store that reads them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflows.models import Application, ApplicationKind, ApplicationStatus, Event, EventKind


def application_of_row(row: Any, history: Sequence[Any] = ()) -> Application:
    """The application of an ``applications`` row, with ``history`` (its ``events`` rows)."""
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
        identified_by=row.identified_by or "typed",
        anonymised_at=row.anonymised_at,
        planned_date=row.planned_date,
        planned_window=row.planned_window,
        due_at=row.due_at,
        withdraw_requested_at=row.withdraw_requested_at,
        confirm_asked_at=row.confirm_asked_at,
        citizen_answer=row.citizen_answer,
        rating=row.rating,
        rating_comment=row.rating_comment,
        reopened_count=row.reopened_count or 0,
        suspend_until=row.suspend_until,
        restoration_offered_at=row.restoration_offered_at,
        events=tuple(
            Event(
                at=e.at,
                kind=EventKind(e.kind),
                actor=e.actor,
                note=e.note,
                photo_file_id=e.photo_file_id,
            )
            for e in history
        ),
    )

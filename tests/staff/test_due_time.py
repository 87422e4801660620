"""The card shows the order's due time (its reason's deadline), and the overdue prompt counts
the hours of that deadline, not the global one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.staff.render import render_card, render_reminder
from tests.support import draft
from workflows.models import Application, ApplicationKind, ApplicationStatus

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _app(**changes: object) -> Application:
    base = {
        **dataclasses.asdict(draft("100001", chat_id=1)),
        "number": 7,
        "kind": ApplicationKind.SUSPEND,
        "status": ApplicationStatus.REGISTERED,
        "address": "Bakı",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Application(**{**base, **changes})  # type: ignore[arg-type]


def _same(text: str) -> str:
    return text


def test_the_card_shows_the_due_time_in_baku() -> None:
    card = render_card(_app(due_at=NOW + timedelta(hours=24)), "Absence", _same)
    assert "Due by: 28.11.2026, 13:00 (Baku time)" in card


def test_a_card_without_a_due_time_has_no_such_line() -> None:
    assert "Due by" not in render_card(_app(), "Absence", _same)


def test_the_reminder_counts_the_reasons_deadline() -> None:
    due = _app(due_at=NOW + timedelta(hours=24))
    assert "still open after 24 hours" in render_reminder(due, 72, _same)
    assert "still open after 72 hours" in render_reminder(_app(), 72, _same)

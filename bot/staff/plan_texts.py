"""How a planned date reads (issue 19, item 1): the day in Babel's format for the locale and
the window's Baku hours; the subscriber's sentence and the card's line."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date, format_skeleton

from dialogs.wording import N_, Translate
from workflows.models import ApplicationKind
from workflows.planning import WINDOWS

PLANNED_SUSPEND = N_("🗓 Your water supply will be suspended on {date}, between {start} and {end}.")
PLANNED_RESTORE = N_("🗓 Your water supply will be restored on {date}, between {start} and {end}.")
PLANNED_LINE = N_("Planned: {date}, {start}–{end}")


def parse_day(value: object) -> date | None:
    """A stored ``YYYY-MM-DD``; None for anything else."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def day_text(day: date, locale: str) -> str:
    """``12 December`` / ``12 dekabr`` / ``12 декабря``."""
    return format_date(day, "d MMMM", locale=locale)


def day_button(day: date, locale: str) -> str:
    """Short, with the weekday, for a button: ``Sat, Dec 12``."""
    return format_skeleton("MMMEd", day, locale=locale)


def planned_sentence(
    kind: ApplicationKind, day_iso: object, window: object, _: Translate, locale: str
) -> str | None:
    """The subscriber's sentence (plain text; escape it for HTML), None for a broken value."""
    day = parse_day(day_iso)
    hours = WINDOWS.get(str(window))
    if day is None or hours is None:
        return None
    msgid = PLANNED_SUSPEND if kind is ApplicationKind.SUSPEND else PLANNED_RESTORE
    return _(msgid).format(date=day_text(day, locale), start=hours[0], end=hours[1])


def planned_line(day_iso: object, window: object, _: Translate, locale: str) -> str | None:
    """The card's line (plain text), None when nothing (valid) is planned."""
    day = parse_day(day_iso)
    hours = WINDOWS.get(str(window))
    if day is None or hours is None:
        return None
    return _(PLANNED_LINE).format(date=day_text(day, locale), start=hours[0], end=hours[1])

"""The "until when?" of a temporary suspension (issue 19, item 6): an optional Baku date.

Rules:
- Only a suspension has one; it is optional, chosen on the summary (the form's steps stay
  as they are).
- The date is a Baku calendar day after today and at most ``max_days`` days ahead
  (``SUSPEND_UNTIL_MAX_DAYS``, 365 by default): not today, not in the past.
- It is typed as ``DD.MM.YYYY``, leniently: any of ``. / - ,`` or spaces between the parts,
  one or two digits for day and month, a two-digit year for 20YY, or ``YYYY-MM-DD``; or
  picked among the quick choices (a week, a month, three or six months from today).
- It is stored as ``YYYY-MM-DD``; registration checks the range again (a draft may wait
  for days before "Davam et").
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, timedelta

from workflows.errors import DomainError
from workflows.planning import baku_today
from workflows.values import InvalidValue

DEFAULT_MAX_DAYS = 365
# Anything longer is no date: refused before any other work.
_MAX_INPUT = 40
_SEPARATORS = re.compile(r"[\s./\-,\u2010-\u2015\u2212]+")

# The quick choices: id -> (days, months) from today.
QUICK_CHOICES: dict[str, tuple[int, int]] = {
    "1w": (7, 0),
    "1m": (0, 1),
    "3m": (0, 3),
    "6m": (0, 6),
}


class InvalidDate(InvalidValue):
    """Codes: ``empty``, ``format`` (not a date, or no such day, like 31.02)."""

    field = "date"


class UntilNotAllowed(DomainError):
    """A date outside the allowed range, from ``first`` to ``last`` (Baku days)."""

    def __init__(self, first: date, last: date) -> None:
        super().__init__(first.isoformat(), last.isoformat())
        self.first = first
        self.last = last


def parse_date(text: str) -> date:
    """``"12.03.2027"``, ``"12/3/27"``, ``"12 03 2027"`` or ``"2027-03-12"`` -> the day."""
    if len(text) > _MAX_INPUT:
        raise InvalidDate("format", f"{len(text)} characters")
    # Bidi marks and other invisible format characters (an RTL keyboard adds them) go.
    value = "".join(c for c in text if unicodedata.category(c) != "Cf")
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise InvalidDate("empty")
    parts = [part for part in _SEPARATORS.split(value) if part]
    if len(parts) != 3 or not all(part.isdecimal() for part in parts):
        raise InvalidDate("format", "three groups of digits")
    if len(parts[0]) == 4:
        year, month, day = parts
    else:
        day, month, year = parts
    if len(year) == 2:
        year = f"20{int(year):02d}"
    if len(year) != 4 or len(month) > 2 or len(day) > 2:
        raise InvalidDate("format", "DD.MM.YYYY")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise InvalidDate("format", "no such day") from None


def until_range(now: datetime, max_days: int) -> tuple[date, date]:
    """The first and the last day allowed ``now``: tomorrow, and ``max_days`` from today."""
    today = baku_today(now)
    return today + timedelta(days=1), today + timedelta(days=max_days)


def check_until(day: date, now: datetime, max_days: int) -> date:
    """``day`` if it may be chosen ``now``; else :class:`UntilNotAllowed`."""
    first, last = until_range(now, max_days)
    if not first <= day <= last:
        raise UntilNotAllowed(first, last)
    return day


def check_until_iso(value: str, now: datetime, max_days: int) -> str:
    """A stored ``YYYY-MM-DD`` checked as :func:`check_until` does (anything else is out of
    range)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UntilNotAllowed(*until_range(now, max_days)) from None
    return check_until(day, now, max_days).isoformat()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 January + 1 -> 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def quick_date(choice: str, now: datetime) -> date | None:
    """The day a quick choice names ``now``; None for an unknown choice."""
    found = QUICK_CHOICES.get(choice)
    if found is None:
        return None
    days, months = found
    return add_months(baku_today(now) + timedelta(days=days), months)


def quick_choices(now: datetime, max_days: int) -> list[tuple[str, date]]:
    """The quick choices that fall within the range ``now``, with their days."""
    first, last = until_range(now, max_days)
    found = [(choice, quick_date(choice, now)) for choice in QUICK_CHOICES]
    return [(choice, day) for choice, day in found if day is not None and first <= day <= last]

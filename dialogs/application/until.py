"""The summary's "📅 Until when?" of a suspension (issue 19, item 6): an optional date, so
the form's steps stay as they are. A quick choice or a typed ``DD.MM.YYYY`` (the rules:
``workflows.until``), "Remove the date", and back to the summary."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import ManagedTextInput
from aiogram_dialog.widgets.kbd import Button

from dialogs.application.fields import Field
from dialogs.common import ErrorId, clear_error, current_locale, deps_of, render_error, set_error
from dialogs.states import ApplicationSG
from dialogs.wording import N_, fmt_day
from workflows.planning import baku_today
from workflows.until import (
    UntilNotAllowed,
    check_until,
    quick_choices,
    quick_date,
    until_range,
)

QUICK_LABELS = {
    "1w": N_("In a week"),
    "1m": N_("In a month"),
    "3m": N_("In 3 months"),
    "6m": N_("In 6 months"),
}


def _rules(manager: DialogManager) -> tuple[Any, int]:
    """Now, and how far ahead a date may be (SUSPEND_UNTIL_MAX_DAYS)."""
    journey = deps_of(manager).journey
    return journey.clock.now(), journey.suspend_until_max_days


def refuse_range(manager: DialogManager, exc: UntilNotAllowed) -> None:
    """Show the allowed range in the window that refused the date."""
    locale = current_locale()
    set_error(
        manager,
        ErrorId.UNTIL_RANGE,
        first=fmt_day(exc.first, locale),
        last=fmt_day(exc.last, locale),
        days=(exc.last - exc.first).days + 1,
    )


async def until_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    now, max_days = _rules(dialog_manager)
    locale = current_locale()
    first, last = until_range(now, max_days)
    chosen = dialog_manager.dialog_data.get(Field.UNTIL)
    return {
        "error": render_error(dialog_manager),
        "first": fmt_day(first, locale),
        "last": fmt_day(last, locale),
        "until_set": bool(chosen),
        "until": fmt_day(chosen, locale),
        "choices": [
            (choice, f"{gettext(QUICK_LABELS[choice])} · {fmt_day(day, locale)}")
            for choice, day in quick_choices(now, max_days)
        ],
    }


async def on_edit_until(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """The summary's button: the date window (a debt found before is asked again on
    "Davam et")."""
    clear_error(manager)
    manager.dialog_data.pop(Field.DEBT, None)
    await manager.switch_to(ApplicationSG.until)


async def _choose(manager: DialogManager, day: date) -> None:
    now, max_days = _rules(manager)
    try:
        check_until(day, now, max_days)
    except UntilNotAllowed as exc:
        refuse_range(manager, exc)
        return
    manager.dialog_data[Field.UNTIL] = day.isoformat()
    clear_error(manager)
    await manager.switch_to(ApplicationSG.summary)


async def on_quick(callback: CallbackQuery, widget: object, manager: DialogManager, choice: str):
    day = quick_date(choice, _rules(manager)[0])
    if day is None:  # a forged button
        set_error(manager, ErrorId.USE_BUTTONS)
        return
    await _choose(manager, day)


async def on_typed(
    message: Message, widget: ManagedTextInput[date], manager: DialogManager, day: date
) -> None:
    await _choose(manager, day)


async def on_typed_invalid(
    message: Message, widget: ManagedTextInput[date], manager: DialogManager, error: ValueError
) -> None:
    example = baku_today(_rules(manager)[0]) + timedelta(days=30)
    set_error(manager, ErrorId.UNTIL_FORMAT, example=f"{example:%d.%m.%Y}")


async def on_remove(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop(Field.UNTIL, None)
    clear_error(manager)
    await manager.switch_to(ApplicationSG.summary)


async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)
    await manager.switch_to(ApplicationSG.summary)

"""Status: the subscriber's applications and lookup by number (own FIN only)."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import ManagedTextInput
from aiogram_dialog.widgets.kbd import Button

from dialogs.common import ErrorId, clear_error, deps_of, profile_of, set_error
from dialogs.states import StatusSG
from workflows.errors import ApplicationNotFound
from workflows.ids import InvalidNumber, parse_number_id


def parse_number(text: str) -> int:
    cleaned = text.strip().lstrip("#№").strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 12:
        raise ValueError("not a number")
    return int(cleaned)


async def on_status_start(start_data: object, manager: DialogManager) -> None:
    if isinstance(start_data, dict) and start_data.get("number"):
        manager.dialog_data["number"] = int(start_data["number"])


async def on_application_selected(
    callback: CallbackQuery, widget: object, manager: DialogManager, number: str
) -> None:
    try:
        manager.dialog_data["number"] = parse_number_id(number)
    except InvalidNumber:  # a forged button: only the numbers the listing shows
        set_error(manager, ErrorId.USE_BUTTONS)
        return
    clear_error(manager)
    await manager.switch_to(StatusSG.detail)


async def on_number_entered(
    message: Message, widget: ManagedTextInput[int], manager: DialogManager, number: int
) -> None:
    fin = profile_of(manager).fin or ""
    try:
        await deps_of(manager).journey.application_of(fin, number)
    except ApplicationNotFound:
        set_error(manager, ErrorId.NUMBER_NOT_FOUND, number=number)
        return
    clear_error(manager)
    manager.dialog_data["number"] = number
    await manager.switch_to(StatusSG.detail)


async def on_number_invalid(
    message: Message, widget: ManagedTextInput[int], manager: DialogManager, error: ValueError
) -> None:
    set_error(manager, ErrorId.NUMBER_INVALID)


async def on_detail_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)
    await manager.switch_to(StatusSG.listing)


async def on_clear(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)

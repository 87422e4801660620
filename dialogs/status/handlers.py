"""Status: the subscriber's applications and lookup by number (own FIN only)."""

from __future__ import annotations

import logging

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.input import ManagedTextInput
from aiogram_dialog.widgets.kbd import Button

from dialogs.common import ErrorId, clear_error, deps_of, own_phone, profile_of, set_error
from dialogs.states import StatusSG
from dialogs.status.getters import PROVED, WITHDRAW_NOTE
from workflows.errors import ApplicationNotFound, RegistryUnavailable
from workflows.ids import InvalidNumber, parse_number_id

logger = logging.getLogger(__name__)


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
    manager.dialog_data.pop(WITHDRAW_NOTE, None)
    await manager.switch_to(StatusSG.detail)


async def on_number_entered(
    message: Message, widget: ManagedTextInput[int], manager: DialogManager, number: int
) -> None:
    account = profile_of(manager).telegram_user_id
    try:
        await deps_of(manager).journey.application_of(account, number)
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
    manager.dialog_data.pop(WITHDRAW_NOTE, None)
    await manager.switch_to(StatusSG.listing)


async def on_clear(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)


async def on_prove_contact(message: Message, widget: object, manager: DialogManager) -> None:
    """A contact shared to prove the FIN: the account's own, and the registry's phone of one
    of the FIN's subscriber codes."""
    phone = own_phone(message, manager)
    if phone is None:
        return
    profile = profile_of(manager)
    try:
        proved = await deps_of(manager).proofs.prove_by_phone(
            profile.telegram_user_id, profile.fin or "", phone
        )
    except RegistryUnavailable:
        set_error(manager, ErrorId.REGISTRY_DOWN)
        return
    if not proved:
        set_error(manager, ErrorId.FIN_NOT_PROVED)
        return
    clear_error(manager)
    manager.dialog_data[PROVED] = True
    await manager.switch_to(StatusSG.listing, show_mode=ShowMode.SEND)


async def on_withdraw_confirmed(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    """ "Yes, withdraw": the use case decides (at once, a request, or nothing on a second
    press); the detail view says what happened."""
    withdrawals = deps_of(manager).withdrawals
    number = int(manager.dialog_data.get("number") or 0)
    if withdrawals is not None and number:
        account = profile_of(manager).telegram_user_id
        try:
            outcome = await withdrawals.withdraw(account, number)
        except ApplicationNotFound:
            set_error(manager, ErrorId.NUMBER_NOT_FOUND, number=number)
        else:
            manager.dialog_data[WITHDRAW_NOTE] = outcome.value
            logger.info("application %s: withdraw pressed, %s", number, outcome.value)
    await manager.switch_to(StatusSG.detail)

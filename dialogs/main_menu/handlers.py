"""FIN entry, the main menu and the language switch."""

from __future__ import annotations

from dataclasses import replace

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.input import ManagedTextInput
from aiogram_dialog.widgets.kbd import Button

from dialogs.common import (
    ErrorId,
    clear_error,
    deps_of,
    profile_of,
    remember_profile,
    set_error,
    set_locale,
)
from dialogs.states import ApplicationSG, MainSG, StatusSG
from dialogs.wording import LANGUAGES
from workflows.values import InvalidFin

PENDING_STATUS = "status_number"  # a deep link's application, shown after the FIN


async def start_main(
    manager: DialogManager,
    *,
    show_mode: ShowMode = ShowMode.SEND,
    status_number: int | None = None,
) -> None:
    """Open the bot from scratch: the menu when the FIN is known, else the FIN question."""
    profile = profile_of(manager)
    state = MainSG.menu if profile.fin else MainSG.fin
    await manager.start(state, mode=StartMode.RESET_STACK, show_mode=show_mode)
    if status_number is None:
        return
    if profile.fin:
        await manager.start(StatusSG.detail, data={"number": status_number})
    else:  # opened once the FIN is known
        manager.dialog_data[PENDING_STATUS] = status_number


async def on_fin_entered(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, fin: str
) -> None:
    clear_error(manager)
    profile = profile_of(manager)
    if profile.fin and profile.fin != fin:  # another FIN: the proofs of this account go
        await deps_of(manager).proofs.logout(profile.telegram_user_id)
    await remember_profile(manager, replace(profile, fin=fin))
    manager.current_context().widget_data.clear()  # the FIN lives in the profile alone
    await manager.switch_to(MainSG.menu)
    number = manager.dialog_data.pop(PENDING_STATUS, None)
    if number is not None:
        await manager.start(StatusSG.detail, data={"number": number})


async def on_fin_invalid(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, error: ValueError
) -> None:
    set_error(manager, ErrorId.of(error) if isinstance(error, InvalidFin) else ErrorId.FIN_CHARS)


async def on_change_fin(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)
    await manager.switch_to(MainSG.fin)


async def on_new_application(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    await manager.start(ApplicationSG.subscriber_code)


async def on_check_status(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.start(StatusSG.listing)


async def on_language_selected(
    callback: CallbackQuery, widget: object, manager: DialogManager, locale: str
) -> None:
    clear_error(manager)
    if locale not in LANGUAGES:  # a forged or stale button: only the languages we offer
        set_error(manager, ErrorId.USE_BUTTONS)
        return
    await set_locale(manager, locale)
    await manager.switch_to(MainSG.menu if profile_of(manager).fin else MainSG.fin)


async def on_language_back(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    await manager.switch_to(MainSG.menu if profile_of(manager).fin else MainSG.fin)

"""The privacy notice, /mydata's pages, /forget's confirmation."""

from __future__ import annotations

import logging

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button

from dialogs.common import PROFILE_KEY, clear_error
from dialogs.main_menu.handlers import start_main
from dialogs.privacy.deps import privacy_deps_of
from dialogs.privacy.getters import PAGE_KEY, account_of
from dialogs.states import PrivacySG
from workflows.errors import OpenApplicationsPending
from workflows.ports import UserProfile

logger = logging.getLogger(__name__)


async def on_previous_page(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    manager.dialog_data[PAGE_KEY] = max(int(manager.dialog_data.get(PAGE_KEY, 0)) - 1, 0)


async def on_next_page(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data[PAGE_KEY] = int(manager.dialog_data.get(PAGE_KEY, 0)) + 1


async def on_leave(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Back where the user came from; opened by a command, there is nothing below: the menu."""
    clear_error(manager)
    if len(manager.current_stack().intents) > 1:
        await manager.done()
    else:
        await start_main(manager, show_mode=ShowMode.EDIT)


async def on_erase(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Erase the account's data, then every dialog and FSM key of the chat (the profile's
    copy, drafts), and say what was done."""
    deps = privacy_deps_of(manager)
    account = account_of(manager)
    try:
        result = await deps.privacy.forget(account)
    except OpenApplicationsPending:
        return  # opened since the window was shown: the window now lists them
    chat = manager.middleware_data.get("event_chat")
    bot = manager.middleware_data["bot"]
    erased = await deps.erase_state(bot.id, chat.id if chat else account, account)
    manager.middleware_data[PROFILE_KEY] = UserProfile(account)
    logger.info("account %s erased its data (%d dialog keys)", account, erased)
    await manager.start(
        PrivacySG.forgotten,
        data={"anonymised": result.anonymised, "proofs": result.verifications},
        mode=StartMode.RESET_STACK,
    )


async def on_start_again(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await start_main(manager, show_mode=ShowMode.EDIT)

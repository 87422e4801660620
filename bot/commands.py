"""Subscriber commands in private chats and the recovery from stale buttons."""

from __future__ import annotations

import logging
import re

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart, ExceptionTypeFilter
from aiogram.types import CallbackQuery, Chat, ErrorEvent, Message
from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.best_effort import best_effort
from bot.filters import is_command, is_press
from dialogs.common import in_private_chat
from dialogs.main_menu.handlers import start_main
from dialogs.privacy.deps import PrivacyDeps
from dialogs.states import MainSG, PrivacySG
from dialogs.wording import N_, esc

logger = logging.getLogger(__name__)
STATUS_PAYLOAD = re.compile(r"^status_(\d{1,12})$")
# The answer to a press no handler takes (stale, or forged) outside a private chat, where
# the menu cannot stand in for it.
BUTTON_GONE = N_("This button is no longer active.")


def setup() -> Router:
    router = Router(name="commands")
    router.message.filter(in_private_chat, is_command)

    @router.message(CommandStart())
    async def on_start(message: object, command: CommandObject, dialog_manager: DialogManager):
        number = None
        if command.args and (m := STATUS_PAYLOAD.match(command.args)):
            number = int(m.group(1))
        await start_main(dialog_manager, status_number=number)

    @router.message(Command("language"))
    async def on_language(message: object, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(
            MainSG.language, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND
        )

    @router.message(Command("cancel", "menu"))
    async def on_menu(message: object, dialog_manager: DialogManager) -> None:
        await start_main(dialog_manager)

    @router.message(Command("privacy", "mydata", "forget"))
    async def on_privacy(
        message: object, command: CommandObject, dialog_manager: DialogManager
    ) -> None:
        await dialog_manager.start(
            PRIVACY_WINDOWS[command.command.lower()],
            mode=StartMode.RESET_STACK,
            show_mode=ShowMode.SEND,
        )

    @router.message(Command("logout"))
    async def on_logout(
        message: Message, dialog_manager: DialogManager, privacy_deps: PrivacyDeps
    ) -> None:
        account = message.from_user.id if message.from_user else message.chat.id
        await message.answer(await logout(privacy_deps, account))
        await start_main(dialog_manager)

    return router


PRIVACY_WINDOWS = {
    "privacy": PrivacySG.notice,
    "mydata": PrivacySG.mydata,
    "forget": PrivacySG.forget_confirm,
}


async def logout(deps: PrivacyDeps, account: int) -> str:
    """Drop the account's proofs of a FIN; the answer names the FINs it no longer sees."""
    fins = sorted({v.fin for v in await deps.proofs.verifications(account)})
    dropped = await deps.proofs.logout(account)
    if not dropped:
        return gettext("This account has not proved any FIN, so there is nothing to log out of.")
    return gettext(
        "You are logged out: this account no longer sees the applications of FIN {fins}, "
        "only those it filed itself."
    ).format(fins=", ".join(f"<b>{esc(fin)}</b>" for fin in fins))


def fallback() -> Router:
    """Last in line: a private message that no dialog took (no dialog open, e.g. after a
    restart with in-memory state) gets the menu instead of silence."""
    router = Router(name="fallback")
    router.message.filter(in_private_chat)

    @router.message()
    async def on_anything(message: object, dialog_manager: DialogManager) -> None:
        await start_main(dialog_manager)

    @router.callback_query()
    async def on_unknown_button(
        callback: CallbackQuery, dialog_manager: DialogManager, event_chat: Chat | None = None
    ) -> None:
        """A press no router took: a button of ours from long ago, or forged data; or a
        typed message that looked like a reply button's (it has no press to answer)."""
        private = is_private(event_chat)
        if await is_press(callback):
            await best_effort(
                callback.answer() if private else callback.answer(gettext(BUTTON_GONE)),
                "answering an unknown button",
                callback.from_user.id,
            )
        if private:
            await start_main(dialog_manager)

    return router


async def on_stale_button(
    event: ErrorEvent, dialog_manager: DialogManager, event_chat: Chat | None = None
) -> None:
    """A button of an old message (or one from before a restart): answer, show the menu
    (in a private chat; elsewhere the answer says the button is gone).

    Telegram keeps inline keyboards clickable forever; without this the user would see a
    spinner and nothing else.
    """
    logger.info("stale dialog event: %s", type(event.exception).__name__)
    callback = event.update.callback_query
    private = is_private(event_chat)
    if callback is not None:
        answer = callback.answer() if private else callback.answer(gettext(BUTTON_GONE))
        await best_effort(answer, "answering a stale button", callback.from_user.id)
    if private:
        # it is important to reset the stack: the old one no longer matches the buttons
        await start_main(dialog_manager, show_mode=ShowMode.SEND)


def is_private(chat: Chat | None) -> bool:
    """The subscriber dialogs live in private chats only: a group (the staff's) never gets
    the menu, even for a press that names a dialog (such a button there is forged)."""
    return chat is not None and chat.type == ChatType.PRIVATE


def register_error_handlers(router: Router) -> None:
    router.errors.register(
        on_stale_button, ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState)
    )

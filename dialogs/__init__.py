"""The subscriber's dialogs (aiogram-dialog), private chats only."""

from __future__ import annotations

from aiogram import Router
from aiogram_dialog import Dialog

from dialogs.application import windows as application
from dialogs.common import in_private_chat
from dialogs.main_menu import windows as main_menu
from dialogs.privacy.windows import build_privacy_dialog
from dialogs.status.windows import build_status_dialog


def setup() -> Router:
    router = Router(name="dialogs")
    router.message.filter(in_private_chat)
    # New Dialog objects per dispatcher: a router has one parent, so the module-level
    # dialogs could not serve a second dispatcher (tests, a restart in the same process).
    router.include_routers(
        Dialog(*main_menu.WINDOWS),
        Dialog(*application.WINDOWS),
        build_status_dialog(),
        build_privacy_dialog(),
    )
    return router

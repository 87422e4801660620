"""The subscriber's dialogs (aiogram-dialog), private chats only."""

from __future__ import annotations

from aiogram import Router

from dialogs.application.windows import build_application_dialog
from dialogs.common import in_private_chat
from dialogs.main_menu.windows import build_main_dialog
from dialogs.status.windows import build_status_dialog


def setup() -> Router:
    router = Router(name="dialogs")
    router.message.filter(in_private_chat)
    # New Dialog objects per dispatcher: a router has one parent, so the module-level
    # dialogs could not serve a second dispatcher (tests, a restart in the same process).
    router.include_routers(build_main_dialog(), build_application_dialog(), build_status_dialog())
    return router

"""The subscriber's dialogs (aiogram-dialog), private chats only."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from dialogs.application.windows import application_dialog
from dialogs.main_menu.windows import main_dialog
from dialogs.status.windows import status_dialog


def setup() -> Router:
    router = Router(name="dialogs")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.include_routers(main_dialog, application_dialog, status_dialog)
    return router

"""The staff group chat: a plain aiogram router (not aiogram-dialog; see STYLE.md 5.4).

Wiring (``bot/app.py``)::

    from bot import staff
    routers = [staff.setup(settings, services), ...]     # before dialogs.setup()

and, for a prompt card edit after a press, the outbox runner in the workflow data::

    dp["outbox"] = build_outbox_runner(bot, services, settings, i18n)   # bot/main.py; optional
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Router

from bot.filters import in_group_chat, migrates_from, migrates_to
from bot.staff.access import StaffAccess, StaffChatFilter, StaffChats
from bot.staff.callback_data import PromptCD, WorkOrderCD
from bot.staff.handlers import PromptFilter, StaffHandlers
from storage.outbox import SqlOutboxStore

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings

__all__ = ["setup"]


def setup(settings: Settings, services: Services) -> Router:
    """The router of the staff group's buttons, prompts and service messages."""
    chats = StaffChats(services.staff_chat_id, SqlOutboxStore(services.engine))
    handlers = StaffHandlers(
        services.work_orders,
        chats,
        StaffAccess(settings.staff_user_ids),
        services.clock,
        locale=settings.staff_locale,
    )
    in_staff_chat = StaffChatFilter(chats)
    router = Router(name="staff")
    # Buttons are answered wherever they are pressed (a refusal outside the staff group).
    router.callback_query.register(handlers.on_work_order, WorkOrderCD.filter())
    router.callback_query.register(handlers.on_prompt_cancel, PromptCD.filter())
    # Every message of ours is a group's: a private chat's text is not looked at further.
    router.message.filter(in_group_chat)
    router.message.register(handlers.on_migrate_to, in_staff_chat, migrates_to)
    router.message.register(handlers.on_migrate_from, migrates_from)
    router.message.register(handlers.on_prompt_reply, in_staff_chat, PromptFilter())
    return router

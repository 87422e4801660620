"""Support agents: ``/status``, ``/find``, ``/open``, ``/stats`` and their command menus.

Wiring (composition root): include ``setup(settings, services)`` *before* the subscriber
dialogs router, and await ``register_commands(bot, settings)`` once at start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import Router

from bot.config import Settings
from bot.staff.access import StaffChats
from bot.support.access import AgentAccess
from bot.support.handlers import SupportHandlers, build_router
from bot.support.menu import register_commands
from storage.outbox import SqlOutboxStore
from storage.support import SqlSupportQueries
from workflows.support import Support

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["build_support", "register_commands", "setup"]


def build_support(settings: Settings, services: Services) -> Support:
    return Support(
        queries=SqlSupportQueries(services.transactions.session_factory),
        clock=services.clock,
        deadline=timedelta(hours=settings.work_order_deadline_hours),
    )


def setup(settings: Settings, services: Services) -> Router:
    handlers = SupportHandlers(
        support=build_support(settings, services),
        access=AgentAccess(settings.support_user_ids, settings.support_chat_id, services.clock),
        support_chat_id=settings.support_chat_id,
    )
    if services.staff_chat_id:
        # The staff group's ids follow its upgrade to a supergroup (see bot.staff.access).
        staff_chats = StaffChats(services.staff_chat_id, SqlOutboxStore(services.engine))
        handlers.is_staff_chat = staff_chats.contains
    return build_router(handlers)

"""The staff group chat: a plain aiogram router (not aiogram-dialog; see STYLE.md 5.4).

The composition root (``bot/app.py``) builds :class:`StaffHandlers` and :class:`StaffChats`
once and hands them to :func:`setup`; this package never reaches for settings or the app.
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import in_group_chat, is_press, migrates_from, migrates_to
from bot.staff.access import StaffAccess, StaffChatFilter, StaffChats
from bot.staff.callback_data import PromptCD, WithdrawCD, WorkOrderCD
from bot.staff.handlers import PromptFilter, StaffHandlers
from bot.staff.planning import PlanCD, PlanPrompt
from bot.staff.withdrawal import WithdrawalPresses

__all__ = ["StaffAccess", "StaffChats", "StaffHandlers", "WithdrawalPresses", "setup"]


def setup(
    handlers: StaffHandlers, chats: StaffChats, withdrawals: WithdrawalPresses | None = None
) -> Router:
    """The router of the staff group's buttons, prompts and service messages."""
    in_staff_chat = StaffChatFilter(chats)
    router = Router(name="staff")
    # Buttons are answered wherever they are pressed (a refusal outside the staff group).
    router.callback_query.filter(is_press)
    router.callback_query.register(handlers.on_work_order, WorkOrderCD.filter())
    router.callback_query.register(handlers.on_prompt_cancel, PromptCD.filter())
    if withdrawals is not None:
        router.callback_query.register(withdrawals.on_press, WithdrawCD.filter())
    planner = PlanPrompt(handlers)
    handlers.planner = planner
    router.callback_query.register(planner.on_plan, PlanCD.filter())
    # Every message of ours is a group's: a private chat's text is not looked at further.
    router.message.filter(in_group_chat)
    router.message.register(handlers.on_migrate_to, in_staff_chat, migrates_to)
    router.message.register(handlers.on_migrate_from, migrates_from)
    router.message.register(handlers.on_prompt_reply, in_staff_chat, PromptFilter())
    return router

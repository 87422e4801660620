"""The subscriber's word after Done (issue 19, item 4): a plain aiogram router.

The composition root builds :class:`CitizenHandlers` and hands it to :func:`setup`.
"""

from __future__ import annotations

from aiogram import Router

from bot.citizen.callback_data import CitizenCD
from bot.citizen.handlers import CitizenHandlers, WaitingFilter
from bot.filters import is_press, pressed_in_private_chat

__all__ = ["CitizenHandlers", "setup"]


def setup(handlers: CitizenHandlers) -> Router:
    router = Router(name="citizen")
    router.callback_query.filter(is_press, pressed_in_private_chat)
    router.callback_query.register(handlers.on_press, CitizenCD.filter())
    router.message.register(handlers.on_comment, WaitingFilter(handlers.clock))
    return router

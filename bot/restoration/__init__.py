"""The restoration offer's button (issue 19, item 6): a plain aiogram router.

The composition root builds :class:`RestorationHandlers` and hands it to :func:`setup`.
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import is_press
from bot.restoration.callback_data import RestoreOfferCD
from bot.restoration.handlers import RestorationHandlers

__all__ = ["RestorationHandlers", "setup"]


def setup(handlers: RestorationHandlers) -> Router:
    router = Router(name="restoration")
    router.callback_query.filter(is_press)
    router.callback_query.register(handlers.on_press, RestoreOfferCD.filter())
    return router

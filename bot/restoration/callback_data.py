"""Callback data of the restoration offer's button: ``ro:<number>`` (short ASCII, at most
22 bytes), the number of the suspension the offer is about."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.staff.callback_data import NumberId


class RestoreOfferCD(CallbackData, prefix="ro"):
    number: NumberId

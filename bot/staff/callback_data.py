"""Callback data of the staff group's buttons: short ASCII, far below Telegram's 64 bytes.

A press sends back whatever the client puts there, so the number is taken only as the bot
writes it (``workflows.ids.parse_number_id``); anything else fails to unpack, the
filter does not match, and the fallback answers the press (``bot.commands``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator

from workflows.ids import BIG_ID_MAX, InvalidNumber, parse_number_id


def _number_id(value: Any) -> int:
    """An application number: the int the bot packs, or the text a press brings back."""
    if isinstance(value, str):
        return parse_number_id(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= BIG_ID_MAX:
        return value
    raise InvalidNumber("range")


NumberId = Annotated[int, BeforeValidator(_number_id)]


class WorkOrderAction(StrEnum):
    TAKE = "take"
    DONE = "done"
    REJECT = "reject"


class WorkOrderCD(CallbackData, prefix="wo"):
    """A button on a work-order card: ``wo:<action>:<number>``."""

    action: WorkOrderAction
    number: NumberId


class PromptAction(StrEnum):
    CANCEL = "cancel"


class PromptCD(CallbackData, prefix="wop"):
    """The Cancel button of a Done/Reject prompt: ``wop:cancel:<number>``."""

    action: PromptAction
    number: NumberId


class WithdrawAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


class WithdrawCD(CallbackData, prefix="wdr"):
    """The subscriber's withdrawal request on a card: ``wdr:<accept|decline>:<number>``."""

    action: WithdrawAction
    number: NumberId

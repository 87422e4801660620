"""Callback data of the staff group's buttons: short ASCII, far below Telegram's 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class WorkOrderAction(StrEnum):
    TAKE = "take"
    DONE = "done"
    REJECT = "reject"


class WorkOrderCD(CallbackData, prefix="wo"):
    """A button on a work-order card: ``wo:<action>:<number>``."""

    action: WorkOrderAction
    number: int


class PromptAction(StrEnum):
    CANCEL = "cancel"


class PromptCD(CallbackData, prefix="wop"):
    """The Cancel button of a Done/Reject prompt: ``wop:cancel:<number>``."""

    action: PromptAction
    number: int

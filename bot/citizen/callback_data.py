"""Callback data of the subscriber's answer buttons after Done: short ASCII.

``cz:<action>:<number>:<round>:<stars>`` (at most ~30 bytes): ``y`` Yes, ``n`` No,
``r`` a rating (``stars`` 1..5), ``s`` Skip the comment after No (reopen without one),
``k`` Skip the comment after a rating. ``round`` is the order's ``reopened_count`` when the
question was asked, so a button of an older question changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from bot.staff.callback_data import NumberId


class CitizenAction(StrEnum):
    YES = "y"
    NO = "n"
    RATE = "r"
    SKIP_NO = "s"
    SKIP_RATING = "k"


class CitizenCD(CallbackData, prefix="cz"):
    action: CitizenAction
    number: NumberId
    round: int = Field(default=0, ge=0, le=999)
    stars: int = Field(default=0, ge=0, le=5)

"""The staff's answer to a subscriber's withdrawal request: Accept or Decline on the card.

Any member of the staff may answer (the request is the subscriber's, not the order's taker's
business alone). As with the other buttons, the use case queues the card's edit; the press is
answered at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n

from bot.staff.access import display_name
from bot.staff.callback_data import WithdrawAction, WithdrawCD
from bot.staff.handlers import StaffHandlers, answer, refusal
from workflows.errors import ApplicationNotFound, WorkOrderError
from workflows.models import StaffMember
from workflows.withdrawal import Withdrawals

logger = logging.getLogger(__name__)


@dataclass
class WithdrawalPresses:
    staff: StaffHandlers
    withdrawals: Withdrawals

    async def on_press(
        self, callback: CallbackQuery, callback_data: WithdrawCD, bot: Bot, i18n: I18n
    ) -> None:
        _ = self.staff._t(i18n)
        if await self.staff._refuse_presser(callback, bot, _):
            return
        user = callback.from_user
        member = StaffMember(user_id=user.id, name=display_name(user))
        number = callback_data.number
        accept = callback_data.action is WithdrawAction.ACCEPT
        try:
            if accept:
                await self.withdrawals.accept(number, member)
            else:
                await self.withdrawals.decline(number, member)
        except (WorkOrderError, ApplicationNotFound) as exc:
            await answer(callback, refusal(exc, _), alert=True)
            return
        self.staff._wake_outbox()
        logger.info("withdrawal of %s %s by %s", number, callback_data.action.value, user.id)
        text = (
            _("Work order No. {number} is withdrawn.")
            if accept
            else _("The withdrawal of work order No. {number} is declined; the work goes on.")
        )
        await answer(callback, text.format(number=number))

"""The press on the restoration offer's button (issue 19, item 6).

Only the account that filed the suspension gets the form; any other press (another account,
a number that does not exist, a group chat) is answered exactly like an unknown number. The
form opens at its summary, filled in (``dialogs.application.restoration``), while the code
is still suspended and has no open application; otherwise an alert says why. Nothing is
filed here: "Davam et" on the summary files it, through ``Journey.submit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Chat
from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager

from bot.restoration.callback_data import RestoreOfferCD
from dialogs.application.restoration import open_restoration
from dialogs.common import ERRORS, ErrorId
from dialogs.wording import N_
from workflows.errors import (
    ApplicationNotFound,
    DomainError,
    ReasonNotAllowed,
    RegistryUnavailable,
)
from workflows.restoration import CodeBusy, NotSuspended, Restorations

logger = logging.getLogger(__name__)

NOT_SUSPENDED = N_(
    "The water supply of subscriber code {code} is not suspended any more: no restoration "
    "is needed."
)
REGISTRY_DOWN = N_(
    "The subscriber records are not answering. Please press the button again in a few minutes."
)
NO_REASON = N_("Please apply for restoration from the menu: “Create a new application”.")


def refusal(exc: DomainError, number: int) -> str:
    """What the press is answered when the form does not open (in the presser's language)."""
    if isinstance(exc, NotSuspended):
        return gettext(NOT_SUSPENDED).format(code=exc.subscriber_code)
    if isinstance(exc, CodeBusy) and exc.number:
        code, open_number = exc.subscriber_code, exc.number
        return gettext(ERRORS[ErrorId.CODE_OPEN]).format(code=code, number=open_number)
    if isinstance(exc, CodeBusy):
        return gettext(ERRORS[ErrorId.CODE_OPEN_HIDDEN]).format(code=exc.subscriber_code)
    if isinstance(exc, RegistryUnavailable):
        return gettext(REGISTRY_DOWN)
    if isinstance(exc, ReasonNotAllowed):
        return gettext(NO_REASON)
    return gettext(ERRORS[ErrorId.NUMBER_NOT_FOUND]).format(number=number)


@dataclass
class RestorationHandlers:
    restorations: Restorations

    async def on_press(
        self,
        callback: CallbackQuery,
        callback_data: RestoreOfferCD,
        dialog_manager: DialogManager,
        event_chat: Chat | None = None,
    ) -> None:
        number = callback_data.number
        account = callback.from_user.id
        try:
            if event_chat is None or event_chat.type != ChatType.PRIVATE:
                raise ApplicationNotFound(number)  # the offer lives in a private chat only
            start = await self.restorations.start(account, number)
        except (ApplicationNotFound, NotSuspended, CodeBusy) as exc:
            await callback.answer(refusal(exc, number), show_alert=True)
            return
        except (RegistryUnavailable, ReasonNotAllowed) as exc:
            logger.warning(
                "restoration offer %s: %s for account %s", number, type(exc).__name__, account
            )
            await callback.answer(refusal(exc, number), show_alert=True)
            return
        logger.info("restoration form opened from the offer of %s by %s", number, account)
        await callback.answer()
        await open_restoration(dialog_manager, start)

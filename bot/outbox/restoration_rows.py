"""The restoration offer's outbox row (issue 19, item 6), sent by ``TelegramSender``: to the
chat that filed the suspension, in the application's language, with one button. Nothing is
sent when the offer is over by then (the code active again, an application open on it, the
application anonymised): the row is done without a message."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.restoration.texts import offer_keyboard, offer_text
from dialogs.wording import translator
from workflows.errors import RegistryUnavailable
from workflows.outbox.records import Claimed, Delivered, PermanentFailure, RetryLater

if TYPE_CHECKING:
    from bot.outbox.telegram import TelegramSender

logger = logging.getLogger(__name__)


async def send_restore_offer(sender: TelegramSender, item: Claimed, chat_id: int) -> Delivered:
    if sender.restorations is None:
        raise PermanentFailure("restoration offers are not wired to this sender")
    if item.application_number is None:
        raise PermanentFailure("the row names no application")
    try:
        app = await sender.restorations.still_wanted(item.application_number)
    except RegistryUnavailable as exc:
        raise RetryLater("the registry is not answering") from exc
    if app is None:
        logger.info("restoration offer for %s not sent: over", item.application_number)
        return Delivered()
    _ = translator(sender.i18n, app.locale)
    text = offer_text(app, _, app.locale)
    message = await sender._send(chat_id, text, offer_keyboard(app.number, _))
    if sender.latest is not None:  # the dialog's window above it is not edited any more
        await sender.latest.sent(sender.bot.id, message)
    return Delivered(chat_id=message.chat.id, message_id=message.message_id)

"""The outbox rows of the citizen's word (issue 19, item 4), sent by ``TelegramSender``:
the question after Done to the subscriber, and the staff group's "reopened" message (as a
reply to the card)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import LinkPreviewOptions, ReplyParameters

from bot.citizen.texts import question, question_keyboard, reopened_for_staff
from dialogs.wording import translator
from workflows.models import ApplicationStatus
from workflows.outbox.records import Claimed, Delivered

if TYPE_CHECKING:
    from bot.outbox.telegram import TelegramSender

REQUEST_TIMEOUT = 30


async def send_confirm_ask(sender: TelegramSender, item: Claimed, chat_id: int) -> Delivered:
    app, _reason = await sender.reader.get(item.application_number, reason=False)
    round_ = int(item.payload.get("round") or 0)
    if app.status is not ApplicationStatus.DONE or app.reopened_count != round_:
        return Delivered()  # reopened (or changed) since: this question is over
    _ = translator(sender.i18n, app.locale)
    message = await sender._send(chat_id, question(app, _), question_keyboard(app, round_, _))
    if sender.latest is not None:
        await sender.latest.sent(sender.bot.id, message)
    return Delivered(chat_id=message.chat.id, message_id=message.message_id)


async def send_staff_reopened(sender: TelegramSender, item: Claimed, chat_id: int) -> Delivered:
    app, _reason = await sender.reader.get(
        item.application_number, sender.staff_locale, reason=False
    )
    card = await sender.store.card_of(app.number)
    reply = None
    if card is not None and card.chat_id == chat_id:
        reply = ReplyParameters(message_id=card.message_id, allow_sending_without_reply=True)
    text = reopened_for_staff(app, translator(sender.i18n, sender.staff_locale))
    message = await sender._call(
        chat_id,
        lambda: sender.bot.send_message(
            chat_id,
            text,
            reply_parameters=reply,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            request_timeout=REQUEST_TIMEOUT,
        ),
    )
    return Delivered(chat_id=message.chat.id, message_id=message.message_id)

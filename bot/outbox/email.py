"""The e-mail channel: the completion (or rejection) e-mail and its sender.

The words are chosen in ``bot.outbox.mail_content`` (which also says what the e-mail may
hold: it goes to whatever address the subscriber typed) and laid out as plain text and HTML
in ``bot.outbox.mail_layout``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiogram.utils.i18n import I18n

from bot.outbox.mail_content import Contact, compose
from bot.outbox.mail_layout import html_document, plain_text
from bot.outbox.notices import sent_after_withdrawal
from bot.outbox.reading import ApplicationReader
from bot.outbox.runner import Lane
from dialogs.wording import Translate, translator
from workflows.models import Application, EventKind
from workflows.outbox.records import (
    Channel,
    Claimed,
    Delivered,
    OutboxKind,
    PermanentFailure,
    RetryLater,
)
from workflows.ports import EmailMessage, Mailer, MailError

if TYPE_CHECKING:
    from bot.outbox.telegram import StatusLinks

_MSG_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


class EmailSender:
    """Renders the completion e-mail in the application's language and hands it to the mailer."""

    def __init__(
        self,
        mailer: Mailer,
        reader: ApplicationReader,
        i18n: I18n,
        links: StatusLinks,
        contact: Contact | None = None,
    ) -> None:
        self.mailer = mailer
        self.reader = reader
        self.i18n = i18n
        self.links = links
        self.contact = contact or Contact()

    def lane(self) -> Lane:
        """The e-mail lane: its own, so a slow SMTP server never holds back Telegram."""
        return Lane(Channel.EMAIL, self, tag="mail", concurrency=2)

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        if item.kind != OutboxKind.EMAIL:
            raise PermanentFailure(f"unknown outbox kind {item.kind!r}")
        app, _reason = await self.reader.get(item.application_number)
        if sent_after_withdrawal(app, item.payload.get("event")):
            return Delivered()  # withdrawn since it was queued: no e-mail
        event = EventKind(str(item.payload.get("event") or app.status.value))
        message = render_email(
            app,
            event,
            translator(self.i18n, app.locale),
            link=await self.links.status(app.number),
            bot_link=await self.links.bot_link(),
            contact=self.contact,
            to=item.recipient,
            message_id=email_message_id(item),
        )
        try:
            await self.mailer.send(message)
        except MailError as exc:
            if exc.permanent:
                raise PermanentFailure(f"mail: {exc}") from exc
            raise RetryLater(f"mail: {exc}") from exc
        return Delivered()


def email_message_id(item: Claimed) -> str:
    """Stable per outbox row, so a resend after a crash is recognisable as the same mail."""
    key = _MSG_ID_UNSAFE.sub(".", item.dedupe_key).strip(".")
    return f"azersu.outbox.{item.id}.{key}"


def render_email(
    app: Application,
    event: EventKind,
    _: Translate,
    *,
    link: str,
    to: str,
    message_id: str,
    bot_link: str | None = None,
    contact: Contact | None = None,
) -> EmailMessage:
    """The completion (or rejection) e-mail: subject, plain text and HTML, in ``_``'s language.

    ``link`` opens the application's status in the bot, ``bot_link`` the bot itself (by
    default ``link`` without its query).
    """
    content = compose(
        app,
        event,
        _,
        status_link=link,
        bot_link=bot_link or link.partition("?")[0],
        contact=contact or Contact(),
    )
    return EmailMessage(
        to=to,
        subject=content.subject,
        text=plain_text(content),
        html=html_document(content),
        message_id=message_id,
        language=content.locale,
    )

"""The e-mail channel: the completion (or rejection) e-mail and its sender.

The e-mail goes to whatever address the subscriber typed, so it holds only what a wrong
recipient may read: the application's number, its type, status and date, and the staff's
result (or reason for rejection). No FIN, phone, address, subscriber code or reason for the
application: a stranger learns nothing about the subscriber, nor that a home stands empty.
Details are behind the bot's status link, which asks for the subscriber's FIN.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from aiogram.utils.i18n import I18n

from bot.outbox.notices import what_was_done
from bot.outbox.reading import ApplicationReader
from bot.outbox.runner import Lane
from dialogs.wording import KIND_LABELS, STATUS_LABELS, Translate, fmt_dt, translator
from workflows.models import Application, ApplicationStatus, EventKind
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

EGOV_PORTAL = "https://www.e-gov.az"
_MSG_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_QUOTE_STYLE = ' style="margin:0 0 1em;padding-left:12px;border-left:3px solid #9bb"'


class EmailSender:
    """Renders the completion e-mail in the application's language and hands it to the mailer."""

    def __init__(
        self, mailer: Mailer, reader: ApplicationReader, i18n: I18n, links: StatusLinks
    ) -> None:
        self.mailer = mailer
        self.reader = reader
        self.i18n = i18n
        self.links = links

    def lane(self) -> Lane:
        """The e-mail lane: its own, so a slow SMTP server never holds back Telegram."""
        return Lane(Channel.EMAIL, self, tag="mail", concurrency=2)

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        if item.kind != OutboxKind.EMAIL:
            raise PermanentFailure(f"unknown outbox kind {item.kind!r}")
        app, _reason = await self.reader.get(item.application_number)
        event = EventKind(str(item.payload.get("event") or app.status.value))
        link = await self.links.status(app.number)
        message = render_email(
            app,
            event,
            translator(self.i18n, app.locale),
            link=link,
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
) -> EmailMessage:
    """Subject, plain text and HTML of the completion (or rejection) e-mail.

    The staff's note may span lines: it stands under its label, quoted (``> `` in the plain
    text, a ``<blockquote>`` in the HTML), so no line of it passes for a line of the e-mail.
    """
    done = event is EventKind.DONE
    if done:
        subject = _("Application No. {number} has been completed").format(number=app.number)
    else:
        subject = _("Application No. {number} has been rejected").format(number=app.number)
    status = _(STATUS_LABELS[ApplicationStatus.DONE if done else ApplicationStatus.REJECTED])
    note_label = _("Result:") if done else _("Reason for rejection:")
    when = fmt_dt(app.closed_at or app.updated_at, app.locale)
    facts = [
        _("Type: {kind}").format(kind=_(KIND_LABELS[app.kind])),
        _("Status: {status}").format(status=status),
        _("Date: {time}").format(time=when),
    ]
    what = _(what_was_done(app.kind, done=done))
    greeting = _("Dear subscriber,")
    headline = (
        _("Your application No. {number} has been completed.")
        if done
        else _("Your application No. {number} has been rejected.")
    ).format(number=app.number)
    how = _("How to check the status of your application:")
    in_telegram = _("in our Telegram bot: {link}")
    on_portal = _("on the {portal} portal, in the section “Check the application's status”.")
    thanks = _("Thank you for using our service.")
    signature = _("“Azərsu” OJSC")
    note_lines = (app.result_note or "—").split("\n")

    text = "\n".join(
        [
            greeting,
            "",
            headline,
            what,
            note_label,
            *(f"> {line}".rstrip() for line in note_lines),
            "",
            *facts,
            "",
            how,
            "- " + in_telegram.format(link=link),
            "- " + on_portal.format(portal="www.e-gov.az"),
            "",
            thanks,
            signature,
            "",
        ]
    )

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    portal = f'<a href="{EGOV_PORTAL}">www.e-gov.az</a>'
    bot_link = f'<a href="{e(link)}">{e(link)}</a>'
    body = "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{e(app.locale)}"><head><meta charset="utf-8">'
            f"<title>{e(subject)}</title></head><body>",
            f"<p>{e(greeting)}</p>",
            f"<p><b>{e(headline)}</b><br>{e(what)}</p>",
            f"<p>{e(note_label)}</p>",
            f"<blockquote{_QUOTE_STYLE}>" + "<br>".join(map(e, note_lines)) + "</blockquote>",
            "<p>" + "<br>".join(e(fact) for fact in facts) + "</p>",
            f"<p>{e(how)}</p>",
            "<ul>",
            f"<li>{e(in_telegram).format(link=bot_link)}</li>",
            f"<li>{e(on_portal).format(portal=portal)}</li>",
            "</ul>",
            f"<p>{e(thanks)}<br>{e(signature)}</p>",
            "</body></html>",
            "",
        ]
    )
    return EmailMessage(to=to, subject=subject, text=text, html=body, message_id=message_id)

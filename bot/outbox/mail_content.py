"""What the completion (or rejection) e-mail says, in the application's language.

:func:`compose` decides the words once; ``bot.outbox.mail_layout`` lays the same
:class:`MailContent` out as plain text and as HTML, so the two parts never say different
things. The e-mail goes to whatever address the subscriber typed, so it holds only what a
wrong recipient may read: the application's number, type and status, its dates, and the
staff's note. No FIN, phone, address, subscriber code, description or reason for the
application; the details are behind the bot's status link, which asks for the FIN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.outbox.notices import DEFAULT_PHONE, what_was_done
from dialogs.wording import KIND_LABELS, N_, STATUS_LABELS, Translate, fmt_dt
from workflows.models import Application, ApplicationKind, ApplicationStatus, EventKind

EGOV_PORTAL = "https://www.e-gov.az"


@dataclass(frozen=True, slots=True)
class Link:
    """A link, or with no ``url`` words set apart (the application's number in the title)."""

    label: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Sentence:
    """Translated words whose ``{name}`` placeholders are the links of ``links``."""

    template: str
    links: Mapping[str, Link] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Contact:
    """How a person reaches the utility: shown in the footer, as the sender is not read."""

    phone: str = DEFAULT_PHONE
    site: str = "https://www.azersu.az"


@dataclass(frozen=True, slots=True)
class MailContent:
    """Every word of one e-mail, translated; the layouts add no words of their own."""

    locale: str
    subject: str
    brand: str
    title: Sentence  # the prominent "Application No. {number}"
    greeting: str
    headline: str
    what: str
    note_label: str | None  # None: no note from the staff
    note_lines: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]  # (label, value)
    how: str
    ways: tuple[Sentence, ...]
    next_label: str
    next_step: Sentence
    thanks: str
    signature: str
    footer: Sentence


def compose(
    app: Application,
    event: EventKind,
    _: Translate,
    *,
    status_link: str,
    bot_link: str,
    contact: Contact,
) -> MailContent:
    """The words of the e-mail about ``event`` (DONE, else a rejection) on ``app``."""
    done = event is EventKind.DONE
    if done:
        subject = _("Application No. {number} has been completed")
        headline = _("Your application No. {number} has been completed.")
        closed_label = _("Completed on")
    else:
        subject = _("Application No. {number} has been rejected")
        headline = _("Your application No. {number} has been rejected.")
        closed_label = _("Rejected on")
    status = _(STATUS_LABELS[ApplicationStatus.DONE if done else ApplicationStatus.REJECTED])
    note = app.result_note or ""
    # The note stays in whatever language the staff typed it: its label says whose it is.
    note_label = _("Note from the crew:") if done else _("Reason for rejection, from our staff:")
    bot = Link(bot_link, bot_link)
    return MailContent(
        locale=app.locale,
        subject=subject.format(number=app.number),
        brand=_("Azersu"),
        title=Sentence(_("Application No. {number}"), {"number": Link(str(app.number))}),
        greeting=_("Dear subscriber,"),
        headline=headline.format(number=app.number),
        what=_(what_was_done(app.kind, done=done)),
        note_label=note_label if note else None,
        note_lines=tuple(note.split("\n")) if note else (),
        facts=(
            (_("Type"), _(KIND_LABELS[app.kind])),
            (_("Status"), status),
            (_("Registered on"), fmt_dt(app.created_at, _)),
            (closed_label, fmt_dt(app.closed_at or app.updated_at, _)),
        ),
        how=_("How to check the status of your application:"),
        ways=(
            Sentence(_("in our Telegram bot: {link}"), {"link": Link(status_link, status_link)}),
            Sentence(
                _("on the {portal} portal, in the section “Check the application's status”."),
                {"portal": Link("www.e-gov.az", EGOV_PORTAL)},
            ),
        ),
        next_label=_("What next?"),
        next_step=Sentence(_(_next_step(app.kind, done=done)), {"bot": bot}),
        thanks=_("Thank you for using our service."),
        signature=_("“Azərsu” OJSC"),
        footer=Sentence(
            _(
                "This message was sent automatically; replies to this address are not read. "
                "For questions, call {phone}, visit {site} or write to our Telegram bot: {bot}"
            ),
            {
                "phone": Link(contact.phone, "tel:" + "".join(contact.phone.split())),
                "site": Link(_display_url(contact.site), contact.site),
                "bot": bot,
            },
        ),
    )


def _next_step(kind: ApplicationKind, *, done: bool) -> str:
    """The msgid of what the subscriber may do now (translate it where it is shown)."""
    if not done:
        return N_(
            "If you still need the service changed, send a new application in our Telegram "
            "bot, taking the reason above into account: {bot}"
        )
    if kind is ApplicationKind.SUSPEND:
        return N_(
            "When you need the service again, apply for its restoration in our Telegram bot: {bot}"
        )
    return N_(
        "Nothing more is needed from you. Should you need the service suspended again, apply "
        "in our Telegram bot: {bot}"
    )


def _display_url(url: str) -> str:
    """``www.azersu.az`` for ``https://www.azersu.az/``: what a person reads and types."""
    return url.removeprefix("https://").removeprefix("http://").rstrip("/")

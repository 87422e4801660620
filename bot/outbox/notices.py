"""What the subscriber is told about a change of their application (Telegram and e-mail),
about a proof of their FIN, and the support chat's warning about a probed subscriber code.

A notice that closes the application ends with what the subscriber can do next: how to get
the service back after a suspension, whom to call if it is not back after a restoration,
how to apply again after a rejection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.staff.plan_texts import planned_sentence
from dialogs.wording import KIND_LABELS, N_, Translate, esc, fmt_day, quote
from workflows.models import Application, ApplicationKind, ApplicationStatus, EventKind

DEFAULT_PHONE = "195"


def render_notice(
    app: Application, event: EventKind, _: Translate, *, phone: str = DEFAULT_PHONE
) -> str:
    """The subscriber's Telegram message about a change of their application (HTML); the
    staff's note stands in a quoted block under a label saying whose it is, and ``phone``
    (the utility's, ``MAIL_CONTACT_PHONE``) is whom to call."""
    kind = _(KIND_LABELS[app.kind])
    if event is EventKind.TAKEN:
        head = _("🛠 Your application No. {number} has been taken into work.")
    elif event is EventKind.DONE:
        head = _("✅ Your application No. {number} has been completed.")
    elif event is EventKind.REJECTED:
        head = _("❌ Your application No. {number} has been rejected.")
    elif event is EventKind.WITHDRAW_DECLINED:
        head = _(
            "The staff declined the withdrawal of your application No. {number}: the work goes on."
        )
    elif event is EventKind.WITHDRAWN:
        head = _("↩️ Your application No. {number} has been withdrawn, as you asked.")
    else:
        head = _("Your application No. {number} has changed.")
    lines = [f"<b>{head.format(number=app.number)}</b>", _("Type: {kind}").format(kind=esc(kind))]
    if event is EventKind.TAKEN:
        lines.append(_("We will write to you here when the work is done."))
    elif event is EventKind.DONE:
        lines.append(_(what_was_done(app.kind, done=True)))
        if app.result_note:
            lines += [_("Note from the crew:"), quote(app.result_note)]
    elif event is EventKind.REJECTED:
        lines.append(_(what_was_done(app.kind, done=False)))
        if app.result_note:
            lines += [_("Reason for rejection, from our staff:"), quote(app.result_note)]
    elif event is EventKind.WITHDRAWN:
        lines.append(_("Nothing will be done on it; the service has not been changed."))
    if event is EventKind.DONE and app.kind is ApplicationKind.SUSPEND and app.suspend_until:
        offer = _(
            "Three days before {date} we will offer you here an application for restoration, "
            "already filled in. If you need the service earlier, open /menu and choose "
            "“Create a new application”."
        )
        lines += ["", offer.format(date=esc(fmt_day(app.suspend_until, app.locale or "az")))]
    elif event in (EventKind.DONE, EventKind.REJECTED, EventKind.WITHDRAWN):
        step = next_step(app.kind, done=event is EventKind.DONE)
        lines += ["", _(step).format(phone=esc(phone))]
    return "\n".join(lines)


def render_planned(
    app: Application, payload: Mapping[str, Any], _: Translate, locale: str
) -> str | None:
    """The notice of a planned date (HTML): the date the staff chose when it was queued."""
    sentence = planned_sentence(app.kind, payload.get("date"), payload.get("window"), _, locale)
    if sentence is None:
        return None
    return "\n".join(
        [f"<b>{esc(sentence)}</b>", esc(_("Application No. {number}").format(number=app.number))]
    )


def what_was_done(kind: ApplicationKind, *, done: bool) -> str:
    """The msgid saying what happened to the service (translate it where it is shown)."""
    if not done:
        return N_("The application was not carried out; the service has not been changed.")
    if kind is ApplicationKind.SUSPEND:
        return N_("The water supply and wastewater service has been temporarily suspended.")
    return N_("The water supply and wastewater service has been restored.")


PROBE_WARNING = N_(
    "⚠️ Possible probing: the subscriber code {code} was checked today by {accounts} "
    "different Telegram accounts, the last one with the id {account}."
)


def render_probe_warning(payload: Mapping[str, Any], _: Translate) -> str:
    """The support chat's warning about a code many accounts tried (HTML)."""
    return _(PROBE_WARNING).format(
        code=f"<code>{esc(str(payload.get('code', '')))}</code>",
        accounts=int(payload.get("accounts", 0)),
        account=f"<code>{int(payload.get('account', 0))}</code>",
    )


# The account proved its FIN through the e-gov login (the outbox's ``egov_verified`` row).
EGOV_VERIFIED = N_(
    "✅ Your FIN is confirmed through the e-gov login. You can now see every application of "
    "this FIN in “Check the application's status”."
)


def next_step(kind: ApplicationKind, *, done: bool) -> str:
    """The msgid of what the subscriber can do now, inside the bot (``{phone}``: whom to
    call); the e-mail has its own, which links to the bot."""
    if not done:
        return N_(
            "If you still need the service changed, you can apply again: open /menu and "
            "choose “Create a new application”. For questions, call {phone}."
        )
    if kind is ApplicationKind.SUSPEND:
        return N_(
            "When you need the service again, open /menu, choose “Create a new application” "
            "and apply for its restoration."
        )
    return N_("Nothing more is needed from you. If the water is still not back, call {phone}.")


def sent_after_withdrawal(app: Application, event: str | None) -> bool:
    """A notice or an e-mail that would reach the subscriber after the withdrawal (it was
    queued before and not dropped in time, say in flight): it is not sent."""
    return app.status is ApplicationStatus.WITHDRAWN and event != EventKind.WITHDRAWN.value

"""/mydata as text: a block for the profile, one for the proofs, one per application (every
field, its history), packed into pages that Telegram accepts. Everything people typed is
escaped; a block too long for a page has its longest texts cut, visibly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiogram.utils.i18n import gettext

from dialogs.wording import (
    KIND_LABELS,
    LANGUAGES,
    N_,
    STATUS_ICONS,
    STATUS_LABELS,
    blockquote,
    esc,
    fit,
    fmt_day,
    fmt_dt,
    reason_label,
    tg_len,
)
from workflows.identity import IdentityMethod, Verification
from workflows.models import Application, EventKind, Reason
from workflows.ports import UserProfile
from workflows.privacy import MyData

# A page's HTML, as Telegram counts it (4,096 after parsing; the source is longer).
PAGE_LIMIT = 3800
METHOD_LABELS = {
    IdentityMethod.TYPED: N_("FIN typed"),
    IdentityMethod.PHONE: N_("phone matches the registry"),
    IdentityMethod.EGOV: N_("e-gov login"),
}
EVENT_LABELS = {
    EventKind.REGISTERED: N_("Registered"),
    EventKind.TAKEN: N_("Taken by the staff"),
    EventKind.DONE: N_("Completed"),
    EventKind.REJECTED: N_("Rejected"),
}


def my_data_blocks(data: MyData, reasons: Mapping[str, Reason], locale: str) -> list[str]:
    if data.empty:
        return [gettext("The bot keeps nothing about this account.")]
    blocks = [_profile(data.profile, locale), _proofs(data.verifications, locale)]
    if data.applications:
        blocks.append(gettext("<b>Applications</b>: {count}").format(count=len(data.applications)))
    blocks += [_application(app, reasons, locale) for app in data.applications]
    return blocks


def pages(blocks: Sequence[str], limit: int = PAGE_LIMIT) -> list[str]:
    """The blocks in order, as few pages as fit ``limit`` (a block never splits)."""
    result: list[str] = []
    for block in blocks:
        if result and tg_len(result[-1]) + 2 + tg_len(block) <= limit:
            result[-1] += "\n\n" + block
        else:
            result.append(block)
    return result or [""]


def _none() -> str:
    return gettext("none")


def _profile(profile: UserProfile | None, locale: str) -> str:
    profile = profile or UserProfile(0)
    language = LANGUAGES.get(profile.locale or "", "") if profile.locale else ""
    return "\n".join(
        [
            gettext("<b>Your profile</b>"),
            gettext("FIN: <b>{fin}</b>").format(fin=esc(profile.fin) or _none()),
            gettext("Language: {language}").format(language=esc(language) or _none()),
            gettext("Phone verified by Telegram: {phone}").format(
                phone=esc(profile.verified_phone) or _none()
            ),
        ]
    )


def _proofs(verifications: Sequence[Verification], locale: str) -> str:
    lines = [gettext("<b>FINs proved on this account</b>")]
    for v in verifications:
        lines.append(
            f"• <b>{esc(v.fin)}</b> — {gettext(METHOD_LABELS[v.method])}, {fmt_dt(v.at, gettext)}"
        )
    if not verifications:
        lines.append(_none())
    return "\n".join(lines)


def _application(app: Application, reasons: Mapping[str, Reason], locale: str) -> str:
    texts = {
        "description": app.description,
        "notes": app.notes or "",
        "result": app.result_note or "",
    }
    texts.update({str(i): e.note for i, e in enumerate(app.events) if e.note})
    return fit(lambda shown: _card(app, reasons, shown, locale), texts, PAGE_LIMIT)


def _until(app: Application, locale: str) -> list[str]:
    until = fmt_day(app.suspend_until, locale)
    return [gettext("Until: {until}").format(until=esc(until))] if until else []


def _quoted(full: str, shown: str) -> str:
    return blockquote(esc(shown) + ("…" if shown != full else ""))


def _card(
    app: Application, reasons: Mapping[str, Reason], shown: Mapping[str, str], locale: str
) -> str:
    method = METHOD_LABELS.get(app.identified_by, METHOD_LABELS[IdentityMethod.TYPED])
    lines = [
        gettext("<b>Application No. {number}</b>").format(number=app.number),
        gettext("Type: {kind}").format(kind=gettext(KIND_LABELS[app.kind])),
        gettext("Status: {status}").format(
            status=f"{STATUS_ICONS[app.status]} {gettext(STATUS_LABELS[app.status])}"
        ),
        gettext("FIN: <b>{fin}</b>").format(fin=esc(app.fin)),
        gettext("Identified by: {method}").format(method=gettext(method)),
        gettext("Subscriber code: {code}").format(code=esc(app.subscriber_code)),
        gettext("Address: {address}").format(address=esc(app.address)),
        gettext("Reason: {reason}").format(
            reason=esc(reason_label(reasons, app.reason_code, locale))
        ),
        *_until(app, locale),
        gettext("Phone: {phone}").format(phone=esc(app.phone) or _none()),
        gettext("E-mail: {email}").format(email=esc(app.email) or _none()),
        gettext("Description:"),
        _quoted(app.description, shown["description"]) if app.description else _none(),
    ]
    if app.notes:
        lines += [gettext("Additional notes:"), _quoted(app.notes, shown["notes"])]
    if app.result_note:
        lines += [gettext("Result:"), _quoted(app.result_note, shown["result"])]
    language = LANGUAGES.get(app.locale, app.locale)
    lines += [
        gettext("Language of the application: {language}").format(language=esc(language)),
        gettext("Registered: {time}").format(time=fmt_dt(app.created_at, gettext)),
        gettext("Last change: {time}").format(time=fmt_dt(app.updated_at, gettext)),
    ]
    if app.closed_at is not None:
        lines.append(gettext("Closed: {time}").format(time=fmt_dt(app.closed_at, gettext)))
    if app.anonymised_at is not None:
        lines.append(
            gettext("Personal data removed: {time}").format(
                time=fmt_dt(app.anonymised_at, gettext)
            )
        )
    lines.append(gettext("<b>History</b>"))
    for i, event in enumerate(app.events):
        if event.kind not in EVENT_LABELS:
            continue
        line = f"• {fmt_dt(event.at, gettext)} — {gettext(EVENT_LABELS[event.kind])}"
        if event.note:
            lines += [f"{line}:", _quoted(event.note, shown[str(i)])]
        else:
            lines.append(line)
    return "\n".join(lines)

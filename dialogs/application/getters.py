"""Read-only data for the application windows (user text escaped here, once)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager

from dialogs.application.fields import Field
from dialogs.common import current_locale, deps_of, render_error
from dialogs.states import FORM_STEPS
from dialogs.wording import KIND_LABELS, esc, fmt_day, fmt_money, fmt_phone
from workflows.models import ApplicationKind


async def step_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    state = dialog_manager.current_context().state
    data = dialog_manager.dialog_data
    result: dict[str, Any] = {
        "error": render_error(dialog_manager),
        "total": len(FORM_STEPS),
        "step": FORM_STEPS.index(state) + 1 if state in FORM_STEPS else 0,
        "editing": bool(data.get(Field.EDITING)),
        "not_editing": not data.get(Field.EDITING),
        "debt_due": Field.DEBT in data,
        # The amount only to an account that proved the owner FIN (the journey tells it).
        "debt_known": bool(data.get(Field.DEBT)),
        "pay_url": "",
    }
    if Field.DEBT in data:
        code = data.get(Field.LAST_CODE) or data.get(Field.CODE) or ""
        result["pay_url"] = deps_of(dialog_manager).pay_url_template.format(subscriber_code=code)
    if data.get(Field.DEBT):
        result["debt_amount"] = fmt_money(Decimal(data[Field.DEBT]))
    return result


async def reason_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await step_getter(dialog_manager)
    kind = ApplicationKind(dialog_manager.dialog_data.get(Field.KIND, ApplicationKind.SUSPEND))
    reasons = await deps_of(dialog_manager).journey.reasons(kind)
    locale = current_locale()
    data["reasons"] = [(r.code, r.label(locale)) for r in reasons]
    data["kind_label"] = gettext(KIND_LABELS[kind])
    return data


async def summary_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await step_getter(dialog_manager)
    d = dialog_manager.dialog_data
    kind = ApplicationKind(d.get(Field.KIND, ApplicationKind.SUSPEND))
    locale = current_locale()
    labels = {r.code: r.label(locale) for r in await deps_of(dialog_manager).journey.reasons(kind)}
    data.update(
        kind_label=gettext(KIND_LABELS[kind]),
        code=esc(d.get(Field.CODE)),
        address=esc(d.get(Field.ADDRESS)),
        reason=esc(labels.get(d.get(Field.REASON, ""), d.get(Field.REASON, ""))),
        phone=esc(fmt_phone(d.get(Field.PHONE))),
        email=esc(d.get(Field.EMAIL)),
        description=esc(d.get(Field.DESCRIPTION)),
        notes=esc(d.get(Field.NOTES)) if d.get(Field.NOTES) else "—",
        is_suspend=kind is ApplicationKind.SUSPEND,
        until=fmt_day(d.get(Field.UNTIL), locale) if kind is ApplicationKind.SUSPEND else "",
    )
    return data


async def debt_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await step_getter(dialog_manager)
    data["still_debt"] = bool(dialog_manager.dialog_data.get(Field.STILL_DEBT))
    return data


async def registered_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"number": dialog_manager.dialog_data.get(Field.NUMBER, "")}

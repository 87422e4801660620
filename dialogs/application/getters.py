"""Read-only data for the application windows (user text escaped here, once)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager

from dialogs.common import (
    KIND_LABELS,
    current_locale,
    deps_of,
    esc,
    fmt_money,
    render_error,
)
from dialogs.states import FORM_STEPS
from workflows.models import ApplicationKind


async def step_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    state = dialog_manager.current_context().state
    data = dialog_manager.dialog_data
    result: dict[str, Any] = {
        "error": render_error(dialog_manager),
        "total": len(FORM_STEPS),
        "step": FORM_STEPS.index(state) + 1 if state in FORM_STEPS else 0,
        "editing": bool(data.get("editing")),
        "not_editing": not data.get("editing"),
        "debt_due": "debt" in data,
        "pay_url": "",
    }
    if "debt" in data:
        code = data.get("last_code") or data.get("code") or ""
        result["pay_url"] = deps_of(dialog_manager).pay_url_template.format(subscriber_code=code)
        result["debt_amount"] = fmt_money(Decimal(data["debt"]), current_locale())
    return result


async def reason_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await step_getter(dialog_manager)
    kind = ApplicationKind(dialog_manager.dialog_data.get("kind", ApplicationKind.SUSPEND))
    reasons = await deps_of(dialog_manager).journey.reasons(kind)
    locale = current_locale()
    data["reasons"] = [(r.code, r.label(locale)) for r in reasons]
    data["kind_label"] = gettext(KIND_LABELS[kind])
    return data


async def summary_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await step_getter(dialog_manager)
    d = dialog_manager.dialog_data
    kind = ApplicationKind(d.get("kind", ApplicationKind.SUSPEND))
    locale = current_locale()
    labels = {r.code: r.label(locale) for r in await deps_of(dialog_manager).journey.reasons(kind)}
    data.update(
        kind_label=gettext(KIND_LABELS[kind]),
        code=esc(d.get("code")),
        address=esc(d.get("address")),
        reason=esc(labels.get(d.get("reason", ""), d.get("reason", ""))),
        phone=esc(d.get("phone")),
        email=esc(d.get("email")),
        description=esc(d.get("description")),
        notes=esc(d.get("notes")) if d.get("notes") else "—",
    )
    return data


async def debt_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = await step_getter(dialog_manager)
    data["still_debt"] = bool(dialog_manager.dialog_data.get("still_debt"))
    return data


async def registered_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"number": dialog_manager.dialog_data.get("number", "")}

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager

from dialogs.common import current_locale, deps_of, profile_of, render_error
from dialogs.privacy.deps import privacy_deps_of
from dialogs.privacy.render import my_data_blocks, pages

PAGE_KEY = "page"


def account_of(manager: DialogManager) -> int:
    return profile_of(manager).telegram_user_id


async def notice_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    deps = privacy_deps_of(dialog_manager)
    return {
        "days": deps.retention_days,
        "draft_days": f"{deps.draft_days:g}",
        "error": render_error(dialog_manager),
    }


async def my_data_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    data = await privacy_deps_of(dialog_manager).privacy.my_data(account_of(dialog_manager))
    reasons = {r.code: r for r in await deps_of(dialog_manager).journey.all_reasons()}
    shown = pages(my_data_blocks(data, reasons, current_locale()))
    page = min(max(int(dialog_manager.dialog_data.get(PAGE_KEY, 0)), 0), len(shown) - 1)
    footer = ""
    if len(shown) > 1:
        footer = (
            "\n\n<i>"
            + gettext("Page {page} of {pages}").format(page=page + 1, pages=len(shown))
            + "</i>"
        )
    return {
        "text": shown[page] + footer,
        "has_previous": page > 0,
        "has_next": page < len(shown) - 1,
        "error": render_error(dialog_manager),
    }


async def forget_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    account = account_of(dialog_manager)
    pending = await privacy_deps_of(dialog_manager).privacy.open_filings(account)
    numbers = ", ".join(f"№{n}" for n in pending)
    return {
        "pending": bool(pending),
        "may_erase": not pending,
        "numbers": numbers,
        "error": render_error(dialog_manager),
    }


async def forgotten_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    start = dialog_manager.start_data if isinstance(dialog_manager.start_data, dict) else {}
    return {
        "anonymised": int(start.get("anonymised", 0)),
        "proofs": int(start.get("proofs", 0)),
    }

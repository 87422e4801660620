from __future__ import annotations

from typing import Any

from aiogram_dialog import DialogManager

from dialogs.common import current_locale, profile_of, render_error
from dialogs.wording import LANGUAGES, esc


async def fin_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    profile = profile_of(dialog_manager)
    return {
        "error": render_error(dialog_manager),
        "has_fin": bool(profile.fin),
        "first_time": not profile.fin,
    }


async def menu_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {"fin": esc(profile_of(dialog_manager).fin), "error": render_error(dialog_manager)}


async def language_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    current = current_locale()
    return {
        "error": render_error(dialog_manager),
        "languages": [
            (code, ("✓ " if code == current else "") + name) for code, name in LANGUAGES.items()
        ],
    }

"""The limits against probing, as the dialogs meet them: a value past the day's limit is
refused in the window that asked for it (``workflows.probing``)."""

from __future__ import annotations

from aiogram_dialog import DialogManager

from dialogs.common import ErrorId, deps_of, profile_of, set_error
from workflows.errors import ProbeLimitReached


async def code_allowed(manager: DialogManager, code: str) -> bool:
    """True if this account may check ``code`` today; else the refusal is shown."""
    probing = deps_of(manager).probing
    account = profile_of(manager).telegram_user_id
    if probing is None or not account:
        return True
    try:
        await probing.try_code(account, code)
    except ProbeLimitReached:
        set_error(manager, ErrorId.PROBE_CODES)
        return False
    return True


async def fin_allowed(manager: DialogManager, fin: str) -> bool:
    """True if this account may give ``fin`` today (its current FIN always); else the refusal
    is shown."""
    probing = deps_of(manager).probing
    profile = profile_of(manager)
    if probing is None or not profile.telegram_user_id or fin == profile.fin:
        return True
    try:
        await probing.try_fin(profile.telegram_user_id, fin)
    except ProbeLimitReached:
        set_error(manager, ErrorId.PROBE_FINS)
        return False
    return True

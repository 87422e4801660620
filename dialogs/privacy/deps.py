"""What the privacy dialog and commands need, given by the composition root as
``privacy_deps`` (beside ``dialog_deps``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram_dialog import DialogManager

from workflows.privacy import Privacy
from workflows.proofs import Proofs

# Deletes every dialog and FSM key of one chat and user, whatever the storage: (bot id,
# chat id, user id) -> how many keys went.
StateEraser = Callable[[int, int, int], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class PrivacyDeps:
    privacy: Privacy
    proofs: Proofs
    erase_state: StateEraser
    # What the notice says: RETENTION_DAYS, and how long an unfinished form is kept.
    retention_days: int
    draft_days: float


def privacy_deps_of(manager: DialogManager) -> PrivacyDeps:
    return manager.middleware_data["privacy_deps"]

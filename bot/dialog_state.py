"""Erasing one user's dialog and FSM state, whichever storage holds it (``/forget``).

The keys of a chat and user are those of ``DefaultKeyBuilder(with_destiny=True)``: the
profile's copy under the default destiny, aiogram-dialog's stacks and contexts (drafts
included) under destinies of their own, so everything of the pair shares the key's beginning
``fsm:<chat>:<user>:``. Redis is scanned for it, the database storage deletes by it, the
memory storages are filtered by the pair.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from dialogs.privacy.deps import StateEraser
from storage.fsm import SqlStorage

logger = logging.getLogger(__name__)

# A destiny no dialog uses: where it starts in a built key, the key of the pair ends.
_MARK = "\x00erase\x00"
_DELETE_CHUNK = 500


def key_prefix(builder: KeyBuilder, bot_id: int, chat_id: int, user_id: int) -> str:
    """The beginning shared by every key of this chat and user."""
    built = builder.build(
        StorageKey(bot_id=bot_id, chat_id=chat_id, user_id=user_id, destiny=_MARK)
    )
    return built[: built.index(_MARK)]


def state_eraser(storage: BaseStorage) -> StateEraser:
    """The eraser of ``storage``'s keys of one chat and user; returns how many went."""

    async def erase(bot_id: int, chat_id: int, user_id: int) -> int:
        if isinstance(storage, RedisStorage):
            return await _erase_redis(
                storage, key_prefix(storage.key_builder, bot_id, chat_id, user_id)
            )
        if isinstance(storage, SqlStorage):
            prefix = key_prefix(storage.key_builder, bot_id, chat_id, user_id)
            return await storage.delete_prefix(prefix)
        records: dict[StorageKey, Any] | None = getattr(storage, "storage", None)
        if isinstance(records, dict):  # MemoryStorage and its JSON twin of the tests
            keys = [k for k in records if k.chat_id == chat_id and k.user_id == user_id]
            for key in keys:
                del records[key]
            return len(keys)
        logger.warning("dialog state of %s not erased: %s", user_id, type(storage).__name__)
        return 0

    return erase


async def _erase_redis(storage: RedisStorage, prefix: str) -> int:
    pattern = _glob_escaped(prefix) + "*"
    found = [key async for key in storage.redis.scan_iter(match=pattern, count=1000)]
    for start in range(0, len(found), _DELETE_CHUNK):
        await storage.redis.delete(*found[start : start + _DELETE_CHUNK])
    return len(found)


def _glob_escaped(text: str) -> str:
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in text)

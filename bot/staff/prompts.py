"""Pending Done/Reject prompts, kept in the FSM storage.

A prompt is the bot's message asking one staff member for a result note (or a reason); the
note arrives as a reply to it. The prompt is stored under its own key (the staff chat and
the prompt's message id, destiny ``wo_prompt``), so a reply is matched in any worker and,
with Redis, after a restart. Every aiogram-dialog deployment on Redis already needs a key
builder ``with_destiny=True``; memory storage works in a single process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aiogram.fsm.storage.base import BaseStorage, StorageKey

DESTINY = "wo_prompt"


@dataclass(frozen=True, slots=True)
class Prompt:
    number: int
    action: str  # "done" or "reject"
    user_id: int
    user_name: str


class PromptBook:
    def __init__(self, storage: BaseStorage, bot_id: int) -> None:
        self.storage = storage
        self.bot_id = bot_id

    def _key(self, chat_id: int, message_id: int) -> StorageKey:
        return StorageKey(bot_id=self.bot_id, chat_id=chat_id, user_id=message_id, destiny=DESTINY)

    async def put(self, chat_id: int, message_id: int, prompt: Prompt) -> None:
        await self.storage.set_data(self._key(chat_id, message_id), asdict(prompt))

    async def get(self, chat_id: int, message_id: int) -> Prompt | None:
        data: dict[str, Any] = await self.storage.get_data(self._key(chat_id, message_id))
        if not data or "number" not in data:
            return None
        return Prompt(
            number=int(data["number"]),
            action=str(data["action"]),
            user_id=int(data["user_id"]),
            user_name=str(data.get("user_name") or ""),
        )

    async def drop(self, chat_id: int, message_id: int) -> None:
        await self.storage.set_data(self._key(chat_id, message_id), {})

"""Where a Telegram lane sends each recipient's rows: the chat's own id, or the supergroup
its group was upgraded to."""

from __future__ import annotations

from collections.abc import Collection

from workflows.outbox.ports import OutboxStore

# More recipients than this, with nothing in delivery: start again (they are resolved from
# the store when needed), so the book stays small however many chats a worker meets.
MAX_KNOWN = 10_000


class ChatBook:
    """Each recipient's current chat id, asked of the store once and then kept."""

    def __init__(self, store: OutboxStore) -> None:
        self.store = store
        self._chats: dict[str, int] = {}
        # The recipients whose chat has another id now (upgraded groups), by that id.
        self._aliases: dict[int, set[str]] = {}

    def get(self, recipient: str) -> int | None:
        """The recipient's chat as last resolved (None: not resolved yet)."""
        return self._chats.get(recipient)

    def current(self, recipient: str) -> int:
        """The recipient's chat as last resolved, else its own id."""
        return self._chats.get(recipient, int(recipient))

    async def resolve(self, recipient: str) -> int:
        chat_id = self._chats.get(recipient)
        if chat_id is None:
            chat_id = int(recipient)
            if chat_id < 0:  # only groups migrate (to supergroups); a user's chat never does
                chat_id = await self.store.resolve_chat(chat_id)
            self._remember(recipient, chat_id)
        return chat_id

    def aliases(self, chat_id: int) -> Collection[str]:
        """The other recipients whose rows go to ``chat_id`` now (its groups before)."""
        return self._aliases.get(chat_id, ())

    def moved(self, recipient: str, old: int, new: int) -> None:
        """Chat ``old`` is ``new`` now: for ``recipient`` and every recipient sent to it."""
        for other, chat in list(self._chats.items()):
            if chat == old:
                self._remember(other, new)
        self._remember(recipient, new)

    def tidy(self) -> None:
        """Forget everything once the book is large (call it with nothing in delivery)."""
        if len(self._chats) > MAX_KNOWN:
            self._chats.clear()
            self._aliases.clear()

    def _remember(self, recipient: str, chat_id: int) -> None:
        old = self._chats.get(recipient)
        if old is not None and old in self._aliases:
            self._aliases[old].discard(recipient)
        self._chats[recipient] = chat_id
        if str(chat_id) != recipient:
            self._aliases.setdefault(chat_id, set()).add(recipient)

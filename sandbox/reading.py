"""The Python API's reading side: what happened in the world, and waiting for it to happen.

Why apart from :mod:`sandbox.server`: tests and the page read the chats, the Bot API request
log, the commands, the e-mails and the webhook's state, and wait for a message, a call or an
e-mail; :class:`~sandbox.server.SandboxServer` inherits these, :mod:`sandbox.control` serves
them over HTTP, and the matching rules are shared with the HTTP client (:mod:`sandbox.waiting`).
In process a wait wakes on every change of the world instead of polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sandbox.mail import MailBox
from sandbox.records import scope_key
from sandbox.spec import BotApiSpec
from sandbox.waiting import Predicate, as_predicate, first_match, newest_message, poll
from sandbox.world import World


class Reading:
    """Reading what happened (see :mod:`sandbox.server`)."""

    world: World
    spec: BotApiSpec
    mailbox: MailBox

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        chat = self.world.chats.get(int(chat_id))
        if chat is None:
            return []
        return [m.view() for m in chat.visible_messages(include_deleted)]

    def last_message(self, chat_id: int, *, from_bot: bool = True) -> dict[str, Any] | None:
        return newest_message(self.messages(chat_id), as_predicate(None), from_bot=from_bot)

    def chat_state(self, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        view = self.world.chat_view(int(chat_id))
        view["commands"] = self.world.commands_for(int(chat_id), user_id)
        return view

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        chat = self.world.chats.get(int(chat_id))
        return dict(chat.reply_keyboard) if chat and chat.reply_keyboard else None

    def chats(self) -> list[dict[str, Any]]:
        return self.world.chat_list()

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """The Bot API request log (every call with a valid token), oldest first."""
        wanted = self.spec.canonical(method) or method if method else None
        return [r for r in self.world.requests if wanted is None or r["method"] == wanted]

    def commands_log(self) -> list[dict[str, Any]]:
        return list(self.world.commands_log)

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return list(self.world.commands.get((scope_key(scope), language_code), []))

    def commands_for(self, chat_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
        return self.world.commands_for(int(chat_id), user_id)

    def mails(self) -> list[dict[str, Any]]:
        return self.mailbox.list()

    def webhook_info(self) -> dict[str, Any] | None:
        hook = self.world.webhook
        if hook is None:
            return None
        return {
            "url": hook.url,
            "secret_token": hook.secret_token,
            "allowed_updates": hook.allowed_updates,
            "deliveries": hook.deliveries,
            "last_error_date": hook.last_error_date,
            "last_error_message": hook.last_error_message,
            "pending_update_count": len(self.world.updates),
        }

    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self.world.updates)

    def reset(self) -> None:
        """Forget chats, messages, updates, logs and failures (users and presets stay)."""
        self.world.reset()

    async def wait_for(
        self,
        chat_id: int,
        predicate: Predicate = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
        from_bot: bool = True,
    ) -> dict[str, Any]:
        """Wait until a message matching ``predicate`` is in the chat; returns the newest.

        ``after``: only messages with a greater message_id. Edits count: a message edited
        to match is found. Raises ``TimeoutError`` listing the chat's last messages.
        """
        check = as_predicate(predicate)

        def find() -> dict[str, Any] | None:
            return newest_message(self.messages(chat_id), check, from_bot=from_bot, after=after)

        def describe() -> str:
            tail = [
                f"#{m['message_id']} {'bot' if m['from_bot'] else 'user'}: {m['text']!r}"
                for m in self.messages(chat_id)[-5:]
            ]
            return f"no matching message in chat {chat_id}; last: {tail}"

        return await self._wait(find, timeout, describe)

    async def wait_for_request(
        self, method: str, predicate: Predicate = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until the bot made a call of ``method`` matching ``predicate`` (newest)."""
        check = as_predicate(predicate, key="params")

        def find() -> dict[str, Any] | None:
            return first_match(reversed(self.requests(method)), check)

        def describe() -> str:
            return f"no matching {method} request; {len(self.requests(method))} calls seen"

        return await self._wait(find, timeout, describe)

    async def wait_for_mail(
        self, predicate: Predicate = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until an .eml matching ``predicate`` is in mail_dir (polled every 100 ms)."""
        check = as_predicate(predicate, key="subject")

        async def find() -> dict[str, Any] | None:
            return first_match(self.mails(), check)

        return await poll(find, timeout, f"no matching e-mail in {self.mailbox.folder}")

    async def _wait(
        self,
        find: Callable[[], dict[str, Any] | None],
        timeout: float,
        describe: Callable[[], str],
    ) -> dict[str, Any]:
        """Look again each time the world changes (at least every 0.5 s) until found."""
        deadline = time.monotonic() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(describe())
            await self.world.changed.wait(min(remaining, 0.5))

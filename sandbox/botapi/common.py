"""What every area of the Bot API methods shares: the handler type, how an area names the
methods it implements, and finding the chat.

Why: each area (:mod:`~sandbox.botapi.updates`, :mod:`~sandbox.botapi.messages`,
:mod:`~sandbox.botapi.chats`) works on the same world through the same entry point; finding the
chat a call names, with Telegram's refusals (unknown chat, a user who never wrote, a blocked
user, an upgraded group), is one rule for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sandbox.errors import ApiError, bad_request
from sandbox.records import ChatState

if TYPE_CHECKING:
    from sandbox.botapi.core import BotApi

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
_Implementation = TypeVar("_Implementation", bound=Callable[..., Awaitable[Any]])
_BOT_METHOD = "_bot_api_method"


def bot_method(name: str) -> Callable[[_Implementation], _Implementation]:
    """Mark an area's coroutine as the implementation of the Bot API method ``name``."""

    def mark(implementation: _Implementation) -> _Implementation:
        setattr(implementation, _BOT_METHOD, name)
        return implementation

    return mark


class Area:
    """A group of Bot API methods over the world of one :class:`~sandbox.botapi.core.BotApi`."""

    # The Bot API method names an area implements, with the attributes that implement them;
    # collected from its :func:`bot_method` marks when the area's class is defined.
    _implemented: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._implemented = {
            getattr(member, _BOT_METHOD): attribute
            for attribute, member in vars(cls).items()
            if hasattr(member, _BOT_METHOD)
        }

    def __init__(self, api: BotApi) -> None:
        self.api = api
        self.world = api.world

    def handlers(self) -> dict[str, Handler]:
        """The Bot API method names this area implements, with their handlers."""
        return {name: getattr(self, attribute) for name, attribute in self._implemented.items()}

    def chat(self, chat_id: Any, *, sending: bool) -> ChatState:
        """The chat a call names; ``sending``: the bot wants to post into it."""
        world = self.world
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise bad_request("chat not found") from None
        chat = world.chats.get(chat_id)
        if chat is None:
            if sending and chat_id > 0 and chat_id in world.users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if sending and chat.is_private and chat.id in world.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

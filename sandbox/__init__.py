"""The sandbox: an embedded Telegram Bot API compatible server and a web page.

Why: the bot must run end to end without a token or the internet, for a person trying it
(``python bot.py`` without ``BOT_TOKEN``) and for end-to-end tests that drive the real bot over
HTTP. :class:`~sandbox.server.SandboxServer` plays Telegram (the Bot API, validated against the
Bot API spec, with Telegram's semantics and error texts) and the people around the bot
(subscribers in private chats, staff in a group) through a page and a control API.

The bot never imports this package (an import-linter contract); ``bot.py`` wires the two
together. See :mod:`sandbox.server` for the Python API and :mod:`sandbox.control` for the HTTP
control endpoints.
"""

from sandbox.errors import SandboxError
from sandbox.records import (
    DEFAULT_STAFF_CHAT_ID,
    DEFAULT_TOKEN,
    PRESET_AGENTS,
    PRESET_OUTSIDER,
    PRESET_STAFF,
    PRESET_SUBSCRIBERS,
    PresetUser,
)
from sandbox.server import SandboxServer

__all__ = [
    "DEFAULT_STAFF_CHAT_ID",
    "DEFAULT_TOKEN",
    "PRESET_AGENTS",
    "PRESET_OUTSIDER",
    "PRESET_STAFF",
    "PRESET_SUBSCRIBERS",
    "PresetUser",
    "SandboxError",
    "SandboxServer",
]

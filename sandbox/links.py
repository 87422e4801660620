"""Where a link a person opens in the sandbox leads, as Telegram's clients decide it.

Why: the bot's notices carry ``https://t.me/<bot>?start=status_<number>`` buttons; in Telegram
opening one starts (or reopens) the private chat with the bot and sends ``/start
status_<number>`` there. The sandbox plays the only Telegram chats it has (the bot's private
chats and the staff group), so any other Telegram link leads outside it, and a link to the
web is the browser's business after a confirmation, like Telegram's "Open this link?".

:func:`resolve` is pure: it reads a URL and the bot's username and says what happens;
:func:`sandbox.humans.open_link` does it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

# Telegram's deep-link parameter: up to 64 characters of A-Z, a-z, 0-9, _ and -.
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me"})

Action = Literal["start", "open_chat", "outside", "external", "refused"]


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What opening a link does.

    ``start``: send ``text`` (``/start`` or ``/start PAYLOAD``) to the bot's private chat;
    ``open_chat``: show the bot's private chat, nothing sent; ``outside``: a Telegram link the
    sandbox has no chat for; ``external``: a web page, opened after a confirmation;
    ``refused``: not a link a client opens (``javascript:``, a bad URL).
    """

    action: Action
    url: str
    text: str | None = None
    reason: str = ""


def resolve(url: str, bot_username: str) -> LinkTarget:
    """What Telegram's client does with ``url`` opened in a chat with the bot."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return LinkTarget("refused", url, reason="not a valid URL")
    scheme = parts.scheme.lower()
    if scheme == "tg":
        return _tg_link(
            url, parts.netloc.lower(), parse_qs(parts.query, keep_blank_values=True), bot_username
        )
    if scheme not in ("http", "https") or not parts.hostname:
        return LinkTarget("refused", url, reason="only http(s) and tg: links open")
    host = parts.hostname.lower()
    if host not in TELEGRAM_HOSTS:
        return LinkTarget("external", url)
    name = parts.path.strip("/").split("/", 1)[0]
    return _to_username(url, name, parse_qs(parts.query, keep_blank_values=True), bot_username)


def _tg_link(url: str, kind: str, query: dict[str, list[str]], bot_username: str) -> LinkTarget:
    if kind != "resolve":
        return LinkTarget("outside", url, reason=f"tg://{kind} is not a chat of this sandbox")
    return _to_username(url, _first(query, "domain") or "", query, bot_username)


def _to_username(
    url: str, name: str, query: dict[str, list[str]], bot_username: str
) -> LinkTarget:
    if not name or name.lower() != bot_username.lower():
        shown = f"@{name}" if name else "this Telegram link"
        return LinkTarget(
            "outside", url, reason=f"{shown} is not in the sandbox: it has only @{bot_username}"
        )
    if "start" not in query:
        if any(key in query for key in ("startgroup", "startchannel", "startapp", "game")):
            return LinkTarget(
                "outside", url, reason="adding the bot to other chats is not in the sandbox"
            )
        return LinkTarget("open_chat", url)
    payload = _first(query, "start") or ""
    if START_PAYLOAD.fullmatch(payload):
        return LinkTarget("start", url, text=f"/start {payload}")
    # Telegram ignores a parameter it cannot pass on and starts the bot plainly.
    return LinkTarget("start", url, text="/start")


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None

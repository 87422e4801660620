"""Waiting for something to happen: predicates, the newest match, and a polling loop.

Why one module: the server's Python API (in process) and :class:`~sandbox.client.SandboxClient`
(over HTTP) offer the same ``wait_for``, ``wait_for_request`` and ``wait_for_mail``; what
counts as a match (a ``str`` predicate means "the text contains it"), which message is the one
found (the newest from the bot, or from a person, after a given id) and how a poll ends are
one rule for both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool] | str | None
Check = Callable[[dict[str, Any]], bool]


def as_predicate(predicate: Predicate, key: str = "text") -> Check:
    """A check of one item; a ``str`` matches when ``item[key]`` (or its text) contains it."""
    if predicate is None:
        return lambda _item: True
    if isinstance(predicate, str):
        needle = predicate

        def contains(item: dict[str, Any]) -> bool:
            value = item.get(key)
            if isinstance(value, dict):
                value = value.get("text")
            return needle in str(value or "")

        return contains
    return predicate


def newest_message(
    messages: list[dict[str, Any]], check: Check, *, from_bot: bool, after: int | None = None
) -> dict[str, Any] | None:
    """The newest message view from the bot (or a person) after ``after`` that passes."""
    for message in reversed(messages):
        if message["from_bot"] != from_bot:
            continue
        if after is not None and message["message_id"] <= after:
            continue
        if check(message):
            return message
    return None


def first_match(items: Iterable[dict[str, Any]], check: Check) -> dict[str, Any] | None:
    return next((item for item in items if check(item)), None)


async def poll(
    find: Callable[[], Awaitable[dict[str, Any] | None]], timeout: float, message: str
) -> dict[str, Any]:
    """Call ``find`` every 100 ms until it finds something; ``TimeoutError(message)`` after."""
    deadline = time.monotonic() + timeout
    while True:
        found = await find()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            raise TimeoutError(message)
        await asyncio.sleep(0.1)

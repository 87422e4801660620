"""Message entities: their UTF-16 lengths and order, and text + entities rendered as HTML.

Why apart from :mod:`sandbox.tghtml` (which parses the bot's HTML into text + entities): the
page shows every message, whoever sent it and however it was formatted, as one normalised,
escaped and properly nested Telegram HTML string, rendered here from the Bot API's
``MessageEntity`` dicts (offsets and lengths in UTF-16 code units).
"""

from __future__ import annotations

import html
from typing import Any


def utf16_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, the Bot API's measure."""
    return len(text.encode("utf-16-le")) // 2


def entity_order(entity: dict[str, Any]) -> tuple[int, int]:
    """Sort key: by offset, an enclosing (longer) entity before the ones inside it."""
    return (entity["offset"], -entity["length"])


_RENDER = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def _open_markup(entity: dict[str, Any]) -> tuple[str, str]:
    kind = entity.get("type")
    if kind in _RENDER:
        return _RENDER[kind]
    if kind == "text_link":
        return f'<a href="{html.escape(str(entity.get("url", "")), quote=True)}">', "</a>"
    if kind == "pre":
        language = entity.get("language")
        if language:
            lang = html.escape(str(language), quote=True)
            return f'<pre><code class="language-{lang}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "custom_emoji":
        emoji_id = html.escape(str(entity.get("custom_emoji_id", "")), quote=True)
        return f'<tg-emoji emoji-id="{emoji_id}">', "</tg-emoji>"
    return "", ""


def entities_to_html(text: str, entities: list[dict[str, Any]] | None) -> str:
    """Render text + entities as Telegram HTML (escaped text, properly nested tags)."""
    if not entities:
        return html.escape(text, quote=False)
    starts: dict[int, list[dict[str, Any]]] = {}
    for entity in sorted(entities, key=entity_order):
        starts.setdefault(entity["offset"], []).append(entity)
    out: list[str] = []
    open_stack: list[tuple[int, str]] = []  # (end offset, closing markup)
    pos16 = 0

    def close_until(position: int) -> None:
        while open_stack and open_stack[-1][0] <= position:
            out.append(open_stack.pop()[1])

    for ch in text:
        close_until(pos16)
        for entity in starts.get(pos16, []):
            opening, closing = _open_markup(entity)
            end = entity["offset"] + entity["length"]
            # An entity that would cross an enclosing one is clipped to keep the HTML nested.
            if open_stack:
                end = min(end, open_stack[-1][0])
            out.append(opening)
            open_stack.append((end, closing))
        out.append(html.escape(ch, quote=False))
        pos16 += utf16_len(ch)
    close_until(10**12)
    return "".join(out)

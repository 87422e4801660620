"""Telegram's HTML parse mode, reimplemented strictly enough to catch the bot's mistakes.

Why: Telegram rejects a message whose HTML it cannot parse (``400 Bad Request: can't parse
entities: ...``) and the bot then sends nothing. Browsers and ``html.parser`` forgive far more
than Telegram does, so the sandbox follows the algorithm of TDLib's ``parse_html`` instead:

* only ``b strong i em u ins s strike del span(class="tg-spoiler") tg-spoiler a(href) code
  pre blockquote tg-emoji(emoji-id)`` are tags; any other ``<`` (also a bare ``a < b``) starts
  an "unsupported start tag" error;
* tags must nest and close (``</>`` closes the innermost one);
* only ``&lt; &gt; &amp; &quot;`` and numeric character references are decoded; any other
  ``&...`` stays literal text;
* error descriptions and byte offsets use TDLib's wording.

The result is the plain text plus ``MessageEntity`` dicts whose offsets and lengths are in
UTF-16 code units, as in the Bot API (:mod:`sandbox.entities` renders text + entities back to
a normalised HTML string, what the web page displays). Leading and trailing whitespace is trimmed
like Telegram trims a message text, with the entities shifted accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.entities import entity_order, utf16_len

TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_ENTITY_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\f\v"


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is TDLib's description."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output
    argument: str = ""
    expandable: bool = False


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _decode_entity(src: str, i: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``src[i] == '&'``: (character, length consumed) or None."""
    end = src.find(";", i + 1)
    if end == -1 or end - i > 12:
        return None
    body = src[i + 1 : end]
    if body.startswith("#"):
        digits = body[1:]
        try:
            code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits, 10)
        except ValueError:
            return None
        if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), end - i + 1
    if body in _NAMED:
        return _NAMED[body], end - i + 1
    return None


def parse_html(src: str) -> ParsedText:
    """Parse Telegram HTML into text + entities, or raise :class:`EntityParseError`."""
    out: list[str] = []
    pos16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    n = len(src)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal pos16
        out.append(chunk)
        pos16 += utf16_len(chunk)

    while i < n:
        c = src[i]
        if c == "&":
            decoded = _decode_entity(src, i)
            if decoded is not None:
                emit(decoded[0])
                i += decoded[1]
                continue
        if c != "<":
            emit(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and src[i] == "/":
            i = _close_tag(src, begin, i + 1, stack, entities, pos16)
            continue
        i = _open_tag(src, begin, i, stack, pos16)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # only pre carries a language in the Bot API
    return _trim(ParsedText("".join(out), sorted(entities, key=entity_order)))


def _open_tag(src: str, begin: int, i: int, stack: list[_Open], pos16: int) -> int:
    n = len(src)
    name_start = i
    while i < n and src[i] not in _SPACES and src[i] != ">":
        i += 1
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
    tag = src[name_start:i].lower()
    if tag not in TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{tag}" at byte offset {_byte_offset(src, begin)}'
        )
    opened = _Open(tag, pos16)
    while i < n and src[i] != ">":
        while i < n and src[i] in _SPACES:
            i += 1
        if i < n and src[i] == ">":
            break
        attr_start = i
        while i < n and src[i] not in _SPACES and src[i] not in "=>":
            i += 1
        attr = src[attr_start:i].lower()
        if not attr:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(src, begin)}"
            )
        while i < n and src[i] in _SPACES:
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        value = ""
        if src[i] == "=":
            i += 1
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(src, begin)}"
                )
            if src[i] in "'\"":
                quote = src[i]
                i += 1
                chars: list[str] = []
                while i < n and src[i] != quote:
                    if src[i] == "&":
                        decoded = _decode_entity(src, i)
                        if decoded is not None:
                            chars.append(decoded[0])
                            i += decoded[1]
                            continue
                    chars.append(src[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(chars)
            else:
                token_start = i
                while i < n and (src[i].isalnum() or src[i] in ".-"):
                    i += 1
                value = src[token_start:i].lower()
                if i < n and src[i] not in _SPACES and src[i] != ">":
                    raise EntityParseError(
                        "Unexpected end of name token at byte offset "
                        f"{_byte_offset(src, token_start)}"
                    )
        elif attr != "expandable":
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(src, begin)}"
            )
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        _apply_attribute(opened, attr, value)
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
    if tag == "span" and opened.argument != "spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, begin)}'
        )
    if tag == "tg-emoji" and not opened.argument:
        raise EntityParseError(
            f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
            f"{_byte_offset(src, begin)}"
        )
    stack.append(opened)
    return i + 1


def _apply_attribute(opened: _Open, attr: str, value: str) -> None:
    tag = opened.tag
    if tag == "a" and attr == "href":
        opened.argument = value
    elif tag == "code" and attr == "class" and value.startswith("language-"):
        opened.argument = value[len("language-") :]
    elif tag == "span" and attr == "class" and value.startswith("tg-"):
        opened.argument = value[3:]
    elif tag == "tg-emoji" and attr == "emoji-id":
        opened.argument = value
    elif tag == "blockquote" and attr == "expandable":
        opened.expandable = True


def _close_tag(
    src: str,
    begin: int,
    i: int,
    stack: list[_Open],
    entities: list[dict[str, Any]],
    pos16: int,
) -> int:
    n = len(src)
    name_start = i
    while i < n and src[i] not in _SPACES and src[i] != ">":
        i += 1
    name = src[name_start:i].lower()
    while i < n and src[i] in _SPACES:
        i += 1
    if i >= n or src[i] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
    top = stack[-1]
    if name and name != top.tag:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
            f'expected "</{top.tag}>", found "</{name}>"'
        )
    stack.pop()
    length = pos16 - top.start
    if length > 0:
        entity = _make_entity(top, length)
        if entity is not None:
            inner = entities[-1] if entities else None
            if (
                entity["type"] == "pre"
                and inner is not None
                and inner["type"] == "code"
                and (inner["offset"], inner["length"]) == (entity["offset"], length)
            ):
                # <pre><code class="language-x">…</code></pre> is one pre entity with a language.
                entities.pop()
                if inner.get("language"):
                    entity["language"] = inner["language"]
            entities.append(entity)
    return i + 1


def _make_entity(opened: _Open, length: int) -> dict[str, Any] | None:
    kind = _ENTITY_TYPE[opened.tag]
    entity: dict[str, Any] = {"type": kind, "offset": opened.start, "length": length}
    if kind == "text_link":
        if not opened.argument:
            return None
        entity["url"] = opened.argument
    elif kind == "pre" and opened.argument:
        entity["language"] = opened.argument
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = opened.argument
    elif kind == "blockquote" and opened.expandable:
        entity["type"] = "expandable_blockquote"
    elif kind == "code" and opened.argument:
        entity["language"] = opened.argument  # merged into the enclosing pre, if any
    return entity


def _trim(parsed: ParsedText) -> ParsedText:
    """Strip leading/trailing whitespace as Telegram does and shift the entities."""
    text = parsed.text
    stripped = text.strip()
    if stripped == text:
        return parsed
    if not stripped:
        return ParsedText("", [])
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    end = lead + utf16_len(stripped)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            entities.append({**entity, "offset": start - lead, "length": stop - start})
    return ParsedText(stripped, entities)


def plain(text: str, entities: list[dict[str, Any]] | None = None) -> ParsedText:
    """A text sent without parse mode: trimmed, with its explicit entities kept in range."""
    parsed = ParsedText(text, [dict(e) for e in entities or [] if isinstance(e, dict)])
    trimmed = _trim(parsed)
    limit = utf16_len(trimmed.text)
    trimmed.entities = [
        e
        for e in trimmed.entities
        if isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        and e["length"] > 0
        and e["offset"] + e["length"] <= limit
    ]
    return trimmed

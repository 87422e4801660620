"""Forged free text, and the checks that a rendered message shows it inert (issue 17).

A subscriber (or a staff member, or the billing registry) types text meant to pass for the
message's own structure: a line break followed by "Status: Done", a right-to-left override
that shows "enoD :sutatS" as "Status: Done", zero-width and control characters, a terminal
escape. Stored through the sanitiser and rendered with the user's text quoted, none of it
may start a line of its own outside the quote, and no bidi or control character may reach
the output.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sandbox.entities import utf16_len
from sandbox.tghtml import parse_html

FAKE_LINE = "Status: Done"
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Every control character but the line feed, the C1 ones, the other line separators, and
# invisible format characters that are not joiners.
UNWANTED = (
    BIDI
    + "".join(map(chr, [*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]))
    + "\u2028\u2029\u200b\u2060\ufeff\u00ad"
)


def forged(label: str) -> str:
    """Free text for the field ``label`` that tries every trick; ``label`` stays visible."""
    return (
        f"{label} \u202eenoD :sutatS\u202c\x00\x1b[31m\u200b ok\r\n"
        f"{FAKE_LINE}\u2028{FAKE_LINE}\u2029\x85{FAKE_LINE}\x0b\n\n\n\n"
        f"\u2066{FAKE_LINE}\u2069\u200f \u061c{label}\x07"
    )


def assert_clean(text: str) -> None:
    """No bidi, control (but ``\\n``) or invisible format character in ``text``."""
    found = sorted({f"U+{ord(ch):04X}" for ch in text if ch in UNWANTED})
    assert not found, f"left in the output: {found}"


def _quoted_spans(entities: list[dict]) -> list[tuple[int, int]]:
    return [
        (e["offset"], e["offset"] + e["length"])
        for e in entities
        if e["type"] in {"blockquote", "expandable_blockquote"}
    ]


def telegram_lines(html: str) -> list[tuple[str, bool]]:
    """The lines Telegram shows for ``html`` (parsed as TDLib does), each with whether it
    starts inside a quoted block."""
    parsed = parse_html(html)  # also: Telegram would accept this HTML
    spans = _quoted_spans(parsed.entities)
    lines: list[tuple[str, bool]] = []
    position = 0
    for line in parsed.text.split("\n"):
        offset = utf16_len(parsed.text[:position])
        lines.append((line, any(start <= offset < end for start, end in spans)))
        position += len(line) + 1
    return lines


def assert_inert_telegram(html: str, *, quoted: tuple[str, ...] = ()) -> None:
    """``html`` (a Telegram message) shows forged text inert: no bidi or control character,
    no line outside a quote starting with :data:`FAKE_LINE`; each of ``quoted`` (labels
    given to :func:`forged`) is shown, inside a quote together with its fake lines."""
    assert_clean(html)
    lines = telegram_lines(html)
    outside = [line for line, inside in lines if not inside]
    assert not [line for line in outside if line.lstrip().startswith(FAKE_LINE)], html
    inside = "\n".join(line for line, is_quoted in lines if is_quoted)
    for label in quoted:
        assert label in inside, f"{label} is not quoted:\n{html}"
    if quoted:
        assert f"\n{FAKE_LINE}" in inside, html


def assert_inert_email(text: str, html: str, *, quoted: tuple[str, ...] = ()) -> None:
    """The same for both parts of an e-mail: in the plain text a quoted line starts with
    ``>``; in the HTML the fake lines stand inside ``<blockquote>``."""
    assert_clean(text)
    assert_clean(html)
    assert not [line for line in text.splitlines() if line.lstrip().startswith(FAKE_LINE)]
    quoted_lines = [line for line in text.splitlines() if line.startswith(">")]
    for label in quoted:
        assert any(label in line for line in quoted_lines), f"{label} is not quoted:\n{text}"
    reader = _Quotes()
    reader.feed(html)
    assert not [chunk for chunk in reader.outside if FAKE_LINE in chunk], html
    for label in quoted:
        assert any(label in chunk for chunk in reader.inside), html
    if quoted:
        assert any(chunk.startswith(FAKE_LINE) for chunk in reader.inside), html


class _Quotes(HTMLParser):
    """Text chunks of an HTML document, inside ``<blockquote>`` or not."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "blockquote":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        chunk = re.sub(r"\s+", " ", data).strip()
        if chunk:
            (self.inside if self.depth else self.outside).append(chunk)

"""Cutting a long answer into pages that Telegram accepts, and the buttons between them.

Telegram refuses a message longer than 4,096 characters, counted in UTF-16 code units
after the HTML is parsed. We count the raw HTML (tags and entities included) in UTF-16
units, which is never less, so a page that fits here fits there.

Text typed by people (a description, a staff note, a delivery error) can be longer than a
page and grows up to five-fold when escaped (``&`` -> ``&amp;``), so it is escaped here,
piece by piece, and split between pages when it has to be; markup is never cut. Text that
may span lines is quoted (a ``<blockquote>`` under its label, on every page it reaches), so
none of its lines passes for a line of the answer.

The buttons carry the command, the page and the argument (``sp:s:2:125``), nothing else:
a press runs the query again, so pages never go stale and nothing is kept per message.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext

from bot.support.commands import AgentCommand
from dialogs.wording import N_, blockquote, esc, tg_len

logger = logging.getLogger(__name__)

TELEGRAM_TEXT_LIMIT = 4096
# Header and body of a page; the rest is kept for the "Page 2 of 5" footer.
PAGE_BUDGET = 3900
# A piece that would start with less room than this goes to the next page instead.
MIN_ROOM = 200
CONTINUED = "… "

PAGE_LABEL = N_("Page {page} of {pages}")
PREVIOUS = N_("◀ Previous")
NEXT = N_("Next ▶")


class SupportPageCD(CallbackData, prefix="sp"):
    """``cmd`` is the command's short code; ``arg`` the normalised argument."""

    cmd: AgentCommand
    page: int
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Piece:
    """One line of an answer: ``html`` is trusted markup, ``tail`` raw text escaped here;
    ``quoted``: the tail stands in a quoted block under the markup."""

    html: str = ""
    tail: str = ""
    quoted: bool = False

    def wrap(self, escaped: str) -> str:
        """The escaped tail (or a part of it) as shown."""
        return "\n" + blockquote(escaped) if self.quoted else escaped


def _split_escaped(text: str, room: int) -> tuple[str, str]:
    """The longest escaped head of ``text`` within ``room`` units (cut at a space if one is
    near the end), and the raw rest."""
    used = 0
    cut = 0
    last_space = -1
    for i, ch in enumerate(text):
        cost = tg_len(esc(ch))
        if used + cost > room:
            break
        used += cost
        cut = i + 1
        if ch.isspace():
            last_space = i + 1
    else:
        return esc(text), ""
    if last_space > cut * 3 // 4:
        cut = last_space
    return esc(text[:cut]), text[cut:]


_TAG = re.compile(r"<[^>]+>")


def _plain(markup: str) -> str:
    return html.unescape(_TAG.sub("", markup))


def paginate(
    header: str,
    pieces: Sequence[Piece],
    *,
    budget: int = PAGE_BUDGET,
    per_page: int | None = None,
) -> list[str]:
    """Pack ``pieces`` into pages of at most ``budget`` units, ``header`` atop each page.

    ``per_page`` caps the number of lines of a page (lists read better in short pages).
    """
    header_cost = tg_len(header)
    if header_cost > budget // 2:
        header = esc(_plain(header)[: budget // 4])
        header_cost = tg_len(header)
    room_per_page = budget - header_cost - 1  # the newline after the header
    pages: list[list[str]] = []
    lines: list[str] = []
    room = room_per_page

    def flush() -> None:
        nonlocal lines, room
        pages.append(lines)
        lines = []
        room = room_per_page

    for piece in pieces:
        prefix, tail, wrap = piece.html, piece.tail, piece.wrap
        overhead = tg_len(wrap(""))
        if tg_len(prefix) + tg_len(CONTINUED) + overhead + 1 > room_per_page - MIN_ROOM:
            # Markup too long to keep whole (never by construction): show it as text.
            prefix, tail = "", _plain(prefix) + tail
        if per_page is not None and len(lines) >= per_page:
            flush()
        line = prefix + wrap(esc(tail))
        cost = tg_len(line) + (1 if lines else 0)
        if cost <= room:
            lines.append(line)
            room -= cost
            continue
        if tg_len(line) <= room_per_page and lines:
            flush()
            lines.append(line)
            room -= tg_len(line)
            continue
        # Longer than a page: split the tail, the prefix stays with the first part.
        if lines and room < MIN_ROOM + tg_len(prefix):
            flush()
        rest = tail
        first = True
        while True:
            lead = prefix if first else CONTINUED
            separator = 1 if lines else 0
            head, rest = _split_escaped(rest, room - separator - tg_len(lead) - overhead)
            lines.append(lead + wrap(head))
            room -= separator + tg_len(lead + wrap(head))
            first = False
            if not rest:
                break
            flush()
    if lines or not pages:
        pages.append(lines)
    return [header + ("\n" + "\n".join(page) if page else "") for page in pages]


def with_footer(pages: Sequence[str], page: int) -> str:
    """The page's text, with "Page k of n" when there is more than one."""
    text = pages[page]
    if len(pages) > 1:
        label = gettext(PAGE_LABEL).format(page=page + 1, pages=len(pages))
        text += f"\n\n<i>{esc(label)}</i>"
    return text


def page_keyboard(
    cmd: AgentCommand, arg: str, page: int, pages: int
) -> InlineKeyboardMarkup | None:
    """Previous / Next buttons; None for a single page (or an argument too long to carry)."""
    if pages <= 1:
        return None
    row: list[InlineKeyboardButton] = []
    try:
        if page > 0:
            data = SupportPageCD(cmd=cmd, page=page - 1, arg=arg).pack()
            row.append(InlineKeyboardButton(text=gettext(PREVIOUS), callback_data=data))
        if page < pages - 1:
            data = SupportPageCD(cmd=cmd, page=page + 1, arg=arg).pack()
            row.append(InlineKeyboardButton(text=gettext(NEXT), callback_data=data))
    except ValueError:
        # Arguments are validated to fit 64 bytes; this guards a future change.
        logger.warning("support: page buttons of /%s do not fit the callback data", cmd)
        return None
    return InlineKeyboardMarkup(inline_keyboard=[row])

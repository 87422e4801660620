"""Parsers for the values a user types into the bot.

Every parser takes the raw ``str`` the user sent, returns the normalised value and refuses
anything else with :class:`InvalidValue`.  They are pure and cheap, because aiogram-dialog's
``TextInput(type_factory=...)`` runs them again on the stored text whenever it needs the value.

(Over 400 lines on purpose: every typed value's parser and the one free-text sanitiser they
share, each small; kept together so the order of the hints is the same for every field.)

Refusals carry a machine-readable ``code`` instead of a message: the UI maps ``(field, code)``
to a hint in the user's language (az / ru / en), so no user-facing text lives here; the
exception's ``detail`` is a short English note for logs and debugging only.

FIN (``FİN``, the personal code on the Azerbaijani ID card) is 7 characters from the digits
and the Latin capitals *without* ``I`` and ``O`` (they would be confused with ``1`` and ``0``):
``^[0-9A-HJ-NP-Z]{7}$``.  Users type it spaced, in lower case, or with a Russian keyboard
layout, where ``А В Е К М Н О Р С Т Х`` look exactly like Latin letters.  So the parser drops
all whitespace (also NBSP and zero-width characters) and dashes, upper-cases *ASCII letters
only* (so ``ı``, ``ﬁ`` or ``ß`` never turn silently into valid letters).

Every parser names the most basic problem first: the length before the alphabet, then
look-alike letters, then the letters ``I`` and ``O``. For the FIN that is ``empty``,
``length``, ``chars`` (a character that is no letter or digit at all), ``cyrillic``, ``io``
(``I``/``O``, also ``İ``/``ı``): ``1'; DROP TABLE applications;--`` is too long, whatever
letters it holds. A subscriber code is ``empty``, then ``format`` when it would not be a code
even with digits in place of the other characters (its length, with the default pattern),
then ``not_digits``.

Text is never HTML-escaped here: the raw value is stored and escaped when it is rendered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import ClassVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email

__all__ = [
    "ADDRESS_MAX_LENGTH",
    "BIDI_CONTROLS",
    "DEFAULT_SUBSCRIBER_CODE_PATTERN",
    "EMAIL_MAX_LENGTH",
    "FIN_ALPHABET",
    "FIN_LENGTH",
    "FIN_RE",
    "NAME_MAX_LENGTH",
    "PHONE_MAX_INPUT",
    "InvalidEmail",
    "InvalidFin",
    "InvalidPhone",
    "InvalidSubscriberCode",
    "InvalidText",
    "InvalidValue",
    "SubscriberCodeParser",
    "clean_text",
    "compile_subscriber_code_pattern",
    "cut",
    "parse_email",
    "parse_fin",
    "parse_phone",
    "parse_subscriber_code",
    "parse_text",
]


class InvalidValue(ValueError):
    """A typed value was refused; ``code`` says why, for the UI to explain it.

    ``limit`` and ``length`` are set by the length checks of :func:`parse_text`.
    """

    field: ClassVar[str] = "value"

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        limit: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(*((code, detail) if detail else (code,)))
        self.code = code
        self.detail = detail
        self.limit = limit
        self.length = length

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


class InvalidFin(InvalidValue):
    """Codes: ``empty``, ``length``, ``chars``, ``cyrillic``, ``io``."""

    field = "fin"


class InvalidSubscriberCode(InvalidValue):
    """Codes: ``empty``, ``format``, ``not_digits``."""

    field = "subscriber_code"


class InvalidPhone(InvalidValue):
    """Codes: ``empty``, ``too_long``, ``invalid``, ``foreign``."""

    field = "phone"


class InvalidEmail(InvalidValue):
    """Codes: ``empty``, ``too_long``, ``invalid``."""

    field = "email"


class InvalidText(InvalidValue):
    """Codes: ``empty``, ``too_long`` (with ``limit`` and ``length``)."""

    field = "text"


# --- shared helpers ---------------------------------------------------------------------------

_DASHES = "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# Format characters that render as nothing but survive copy-paste (str.isspace() misses them).
_INVISIBLE = "\u180e\u200b\u200c\u200d\u2060\ufeff"
_SQUEEZED = frozenset(_DASHES + _INVISIBLE)
_ASCII_DIGITS = frozenset("0123456789")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# A token (FIN, subscriber code) typed with a separator after every character is still short;
# anything longer than this is refused before any per-character work.
_TOKEN_MAX_INPUT = 256


def _squeeze(text: str) -> str:
    """Drop every whitespace, zero-width and dash character, wherever it stands."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in _SQUEEZED)


def _is_cyrillic(ch: str) -> bool:
    return not ch.isascii() and unicodedata.name(ch, "").startswith("CYRILLIC")


# --- FIN --------------------------------------------------------------------------------------

FIN_LENGTH = 7
FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
FIN_RE = re.compile(r"[0-9A-HJ-NP-Z]{7}", re.ASCII)
_FIN_IO = frozenset("IOioİı")
_FIN_CHARS = frozenset(FIN_ALPHABET + FIN_ALPHABET.lower())


def _explained_in_fin(ch: str) -> bool:
    """A FIN character, or a letter that ``cyrillic`` or ``io`` explains better than ``chars``."""
    return ch in _FIN_CHARS or ch in _FIN_IO or _is_cyrillic(ch)


def parse_fin(text: str) -> str:
    """Return the FIN upper-cased without separators, e.g. ``"5 abc 12d"`` -> ``"5ABC12D"``."""
    if len(text) > _TOKEN_MAX_INPUT:
        raise InvalidFin("length", f"{len(text)} characters of input")
    value = _squeeze(text)
    if not value:
        raise InvalidFin("empty")
    if len(value) != FIN_LENGTH:
        raise InvalidFin("length", f"{len(value)} characters, not {FIN_LENGTH}")
    if not all(_explained_in_fin(ch) for ch in value):
        raise InvalidFin("chars", "only digits and Latin letters")
    if any(_is_cyrillic(ch) for ch in value):
        raise InvalidFin("cyrillic", "Cyrillic letter (Russian keyboard layout?)")
    if any(ch in _FIN_IO for ch in value):
        raise InvalidFin("io", "a FIN never contains I or O")
    # Only digits and ASCII letters other than I and O are left: FIN_RE holds.
    return value.translate(_ASCII_UPPER)


MASK = "\u2022"  # •


def mask_fin(fin: str) -> str:
    """A FIN as agents and staff see it: ``"7KQ2M9X"`` -> ``"7KQ•••X"`` (the first three
    characters and the last; a shorter value is masked whole)."""
    if len(fin) < 5:
        return MASK * len(fin)
    return fin[:3] + MASK * (len(fin) - 4) + fin[-1]


# --- subscriber code --------------------------------------------------------------------------

DEFAULT_SUBSCRIBER_CODE_PATTERN = r"^\d{6,15}$"


def compile_subscriber_code_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a configured subscriber-code regex (``re.ASCII``: ``\\d`` means ``0-9``).

    Raises ``ValueError`` for an empty or malformed pattern.
    """
    if not pattern.strip():
        raise ValueError("empty subscriber code pattern")
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ValueError(f"bad subscriber code pattern {pattern!r}: {exc}") from exc


def parse_subscriber_code(text: str, pattern: re.Pattern[str]) -> str:
    """Return the code as ASCII digits without separators (``"12 34-56"`` -> ``"123456"``).

    Only ASCII digits are accepted (no Arabic-Indic or other Unicode digits); the digits must
    ``fullmatch`` ``pattern``. Text that would not match even with digits in place of its
    other characters (too short or too long, with the default pattern) is ``format`` rather
    than ``not_digits``: its length is the more basic problem.
    """
    if len(text) > _TOKEN_MAX_INPUT:
        raise InvalidSubscriberCode("format", f"{len(text)} characters of input")
    value = _squeeze(text)
    if not value:
        raise InvalidSubscriberCode("empty")
    if not _could_match(value, pattern):
        raise InvalidSubscriberCode("format", f"does not match {pattern.pattern!r}")
    if not all(ch in _ASCII_DIGITS for ch in value):
        raise InvalidSubscriberCode("not_digits", "only the digits 0-9")
    return value


def _could_match(value: str, pattern: re.Pattern[str]) -> bool:
    """Whether ``value`` matches with its non-digits replaced by one digit (any of the ten)."""
    if all(ch in _ASCII_DIGITS for ch in value):
        return pattern.fullmatch(value) is not None
    return any(
        pattern.fullmatch("".join(ch if ch in _ASCII_DIGITS else digit for ch in value))
        for digit in "0123456789"
    )


@dataclass(frozen=True)
class SubscriberCodeParser:
    """``parse_subscriber_code`` bound to a configured pattern, usable as a ``type_factory``."""

    source: str = DEFAULT_SUBSCRIBER_CODE_PATTERN
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_subscriber_code_pattern(self.source))

    def __call__(self, text: str) -> str:
        return parse_subscriber_code(text, self.pattern)


# --- phone ------------------------------------------------------------------------------------

PHONE_MAX_INPUT = 32
_AZ_REGION = "AZ"
_AZ_COUNTRY_CODE = 994
_PHONE_PUNCTUATION = frozenset("+()./" + _DASHES + _INVISIBLE)


def parse_phone(text: str) -> str:
    """Return an Azerbaijani number in E.164: ``"050 123 45 67"`` -> ``"+994501234567"``.

    Accepts national (``0501234567``, ``50 123 45 67``) and international (``+994``, ``994``,
    ``00994``) forms with spaces, dashes, dots and brackets.  A valid number of another
    country is refused with ``foreign``.
    """
    value = text.strip()
    if not value:
        raise InvalidPhone("empty")
    if len(value) > PHONE_MAX_INPUT:
        raise InvalidPhone("too_long", f"{len(value)} characters of input")
    # Only ASCII digits and punctuation: no letters (phonenumbers would read "ABC" as keypad
    # digits and "ext." / "#" as an extension that E.164 silently drops).
    if not all(ch in _ASCII_DIGITS or ch in _PHONE_PUNCTUATION or ch.isspace() for ch in value):
        raise InvalidPhone("invalid", "unexpected character")
    try:
        number = phonenumbers.parse(value, _AZ_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("invalid", str(exc)) from exc
    if number.extension or not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid", "not a valid phone number")
    if (
        number.country_code != _AZ_COUNTRY_CODE
        or phonenumbers.region_code_for_number(number) != _AZ_REGION
    ):
        raise InvalidPhone("foreign", f"country code +{number.country_code}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- e-mail -----------------------------------------------------------------------------------

EMAIL_MAX_LENGTH = 254


def parse_email(text: str) -> str:
    """Return the address normalised by email-validator (syntax only, no DNS lookups).

    The domain is lower-cased (internationalised domains stay in Unicode); the local part is
    kept as typed.
    """
    value = text.strip()
    if not value:
        raise InvalidEmail("empty")
    if len(value) > EMAIL_MAX_LENGTH:
        raise InvalidEmail("too_long", f"{len(value)} characters, limit {EMAIL_MAX_LENGTH}")
    try:
        result = validate_email(value, check_deliverability=False)
    except (EmailNotValidError, UnicodeError) as exc:
        raise InvalidEmail("invalid", str(exc)) from exc
    return result.normalized


# --- free text --------------------------------------------------------------------------------
#
# One sanitiser for every free-text field before it is stored: a description, additional
# notes, a staff member's result note or reason, a staff member's name, an address from the
# billing API or the CSV import. What people type can then never forge the structure of a
# card, a notice or an e-mail: no right-to-left override turning "enoD" into "Done", no line
# break starting a fake "Status: Done" line in a single-line field. (Multi-line fields keep
# their line breaks; the renderers show them inside a quoted block.)

ADDRESS_MAX_LENGTH = 500
"""The longest address stored (billing, CSV import and the ``address`` columns)."""

NAME_MAX_LENGTH = 160
"""The longest staff name stored: ``staff:<id>:<name>`` must fit the events' 200 characters
(Telegram's first and last names are 64 characters each)."""

# Bidi controls, named so that they go even if a future Unicode reclassified one of them.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Joiners that emoji sequences (👨‍👩‍👧) and scripts (Persian, Indic) need.
_JOINERS = frozenset("\u200c\u200d")
# Tag characters are kept only inside an emoji tag sequence (the flags of England, Scotland,
# Wales: 🏴 + tags + CANCEL TAG); anywhere else they are invisible text.
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0000-\U000e007f]")
_TAB = "\t"


def _dropped_class() -> str:
    """Control (Cc: C0, DEL, C1; TAB is made a space instead), format (Cf: bidi controls,
    zero-width spaces, soft hyphens, ...) and lone surrogate (Cs) characters, as the body of
    a regex character class. Line breaks are split off before it applies. Format characters
    exist only in planes 0, 1 and 14."""
    dropped = {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)}
    dropped |= BIDI_CONTROLS
    for plane in (range(0x20000), range(0xE0000, 0xF0000)):
        dropped.update(ch for ch in map(chr, plane) if unicodedata.category(ch) == "Cf")
    dropped -= _JOINERS | {_TAB}
    dropped -= {chr(c) for c in range(0xE0000, 0xE0080)}  # see _TAGS
    # Runs of consecutive code points as ranges: a short class is a fast one.
    points = sorted(map(ord, dropped))
    starts = [p for i, p in enumerate(points) if i == 0 or points[i - 1] != p - 1]
    ends = [p for i, p in enumerate(points) if i + 1 == len(points) or points[i + 1] != p + 1]
    ranges = (
        f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in zip(starts, ends, strict=True)
    )
    return "".join(ranges) + "\\ud800-\\udfff"


_DROPPED = re.compile(f"[{_dropped_class()}]")
# Anything _clean_line would change before the NFC (one search where most text has none).
_SUSPECT = re.compile(f"[{_DROPPED.pattern[1:-1]}\\t\\U000e0000-\\U000e007f]")


def _clean_line(line: str) -> str:
    if _SUSPECT.search(line):
        line = _TAGS.sub(lambda match: match.group(1) or "", line)
        line = _DROPPED.sub("", line).replace(_TAB, " ")
    return unicodedata.normalize("NFC", line)


def clean_text(text: str, *, multiline: bool) -> str:
    """``text`` as it is stored: NFC, without control, format (bidi) or surrogate characters.

    A multi-line field keeps its line breaks as ``\\n`` (any break: CRLF, CR, U+2028 ...),
    without trailing spaces on a line and with at most one blank line in a row; a single-line
    field has every run of whitespace, line breaks included, joined into one space. Either is
    stripped. ZWJ and ZWNJ stay (emoji and scripts need them). Idempotent, never longer
    after a second pass; lengths are for the caller to check, on the result.
    """
    lines = [_clean_line(line) for line in text.splitlines()]
    if not multiline:
        return " ".join(" ".join(lines).split())
    kept: list[str] = []
    for line in (line.rstrip() for line in lines):
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_text(
    text: str, *, max_length: int = 1000, required: bool = True, multiline: bool = True
) -> str | None:
    """Return free text (descriptions, notes) cleaned by :func:`clean_text`, or ``None`` when
    optional and empty. The length is checked on the cleaned text. The text is not escaped.
    """
    value = clean_text(text, multiline=multiline)
    if not value:
        if required:
            raise InvalidText("empty")
        return None
    if len(value) > max_length:
        raise InvalidText(
            "too_long",
            f"{len(value)} characters, limit {max_length}",
            limit=max_length,
            length=len(value),
        )
    return value

"""Numbers the bot issues and reads back from its own buttons.

A button's callback data comes back from the user's client, which can send anything (up to
64 bytes): ``int()`` alone would take ``" 1"``, ``"1_0"``, ``"-1"``, Arabic-Indic digits,
or a number no database column holds. Unlike :mod:`workflows.values`, nothing here is typed
by a person, so a refusal has no hint of its own: the caller answers "use the buttons".
"""

from __future__ import annotations

__all__ = ["BIG_ID_MAX", "InvalidNumber", "parse_number_id"]

BIG_ID_MAX = 2**63 - 1  # BigInteger's upper bound: application numbers, the outbox's ids
_BIG_ID_DIGITS = len(str(BIG_ID_MAX))
_ASCII_DIGITS = frozenset("0123456789")


class InvalidNumber(ValueError):
    """Codes: ``empty``, ``format`` (not as the bot writes it), ``range``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_number_id(text: str) -> int:
    """An application number as the bot writes it into a button: ASCII digits without a
    sign, a space, an underscore or a leading zero, from 1 to :data:`BIG_ID_MAX`."""
    if not text:
        raise InvalidNumber("empty")
    if not all(ch in _ASCII_DIGITS for ch in text) or (text[0] == "0" and text != "0"):
        raise InvalidNumber("format")
    if len(text) > _BIG_ID_DIGITS or not 1 <= int(text) <= BIG_ID_MAX:
        raise InvalidNumber("range")
    return int(text)

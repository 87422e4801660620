"""A number that comes back from a button is taken only in the form the bot writes it."""

from __future__ import annotations

import pytest

from workflows.ids import BIG_ID_MAX, InvalidNumber, parse_number_id


@pytest.mark.parametrize("text", ["1", "125", "9" * 18, str(BIG_ID_MAX)])
def test_a_number_the_bot_writes_is_taken(text: str) -> None:
    assert parse_number_id(text) == int(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("abc", "format"),
        ("-1", "format"),
        ("+1", "format"),
        (" 1", "format"),
        ("1 ", "format"),
        ("1_0", "format"),
        ("007", "format"),
        ("00", "format"),
        ("1.0", "format"),
        ("\u0663", "format"),  # an Arabic-Indic 3: int() would take it
        ("\uff11", "format"),  # a fullwidth 1
        ("0", "range"),
        (str(BIG_ID_MAX + 1), "range"),
        ("1" + "0" * 30, "range"),
        ("9" * 4400, "range"),  # beyond int()'s digit limit, refused before it is reached
    ],
)
def test_anything_else_is_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        parse_number_id(text)
    assert info.value.code == code

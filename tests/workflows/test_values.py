"""Tests of the typed-value parsers: examples for every code, and hypothesis properties."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.values import (
    ADDRESS_MAX_LENGTH,
    BIDI_CONTROLS,
    DEFAULT_SUBSCRIBER_CODE_PATTERN,
    FIN_ALPHABET,
    FIN_RE,
    InvalidEmail,
    InvalidFin,
    InvalidPhone,
    InvalidSubscriberCode,
    InvalidText,
    InvalidValue,
    SubscriberCodeParser,
    clean_text,
    compile_subscriber_code_pattern,
    cut,
    parse_email,
    parse_fin,
    parse_phone,
    parse_subscriber_code,
    parse_text,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DEFAULT_CODE = compile_subscriber_code_pattern(DEFAULT_SUBSCRIBER_CODE_PATTERN)
SQL = "'; DROP TABLE x;--"
SQL_AT_FIN = "1'; DROP TABLE applications;--"  # issue 15: once answered with the I/O hint
HUGE = "5" * 5000


def code_of(parser: Callable[[str], object], text: str) -> str:
    with pytest.raises(InvalidValue) as info:
        parser(text)
    return info.value.code


def parse_code(text: str) -> str:
    return parse_subscriber_code(text, DEFAULT_CODE)


# --- InvalidValue -----------------------------------------------------------------------------


def test_invalid_value_carries_code_and_detail() -> None:
    exc = InvalidValue("empty")
    assert isinstance(exc, ValueError)
    assert exc.code == "empty"
    assert exc.detail == ""
    assert exc.limit is None and exc.length is None
    assert str(exc) == "empty"
    assert str(InvalidValue("length", "6 characters")) == "length: 6 characters"
    exc = InvalidValue("too_long", limit=10, length=11)
    assert (exc.limit, exc.length) == (10, 11)


@pytest.mark.parametrize(
    ("cls", "field"),
    [
        (InvalidFin, "fin"),
        (InvalidSubscriberCode, "subscriber_code"),
        (InvalidPhone, "phone"),
        (InvalidEmail, "email"),
        (InvalidText, "text"),
    ],
)
def test_each_parser_has_its_own_subclass(cls: type[InvalidValue], field: str) -> None:
    assert issubclass(cls, InvalidValue)
    assert cls.field == field


# --- FIN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5ABC12D", "5ABC12D"),
        ("5 abc 12d", "5ABC12D"),
        ("5abc-12d", "5ABC12D"),
        ("  5ABC12D\n", "5ABC12D"),
        ("5\u00a0ABC\u200b12D\ufeff", "5ABC12D"),
        ("5–ABC—12D", "5ABC12D"),
        ("0123456", "0123456"),
        ("ZZZZZZZ", "ZZZZZZZ"),
    ],
)
def test_fin_accepted(text: str, expected: str) -> None:
    assert parse_fin(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("- –\u200b\u00a0", "empty"),
        ("АВ12345", "cyrillic"),  # Cyrillic А and В
        ("5АВС12D", "cyrillic"),
        ("аbc1234", "cyrillic"),  # lower-case Cyrillic а
        ("1ОI2345", "cyrillic"),  # the look-alike О is named before the Latin I
        ("1ABC2O3", "io"),
        ("1abc2o3", "io"),
        ("1ABC2I3", "io"),
        ("1ABCİ23", "io"),
        ("1abcı23", "io"),
        ("1О2", "length"),  # the length comes before the Cyrillic О ...
        ("O", "length"),  # ... and before the letter O
        ("5ABC12DI", "length"),
        ("5АВС12DE", "length"),
        ("5ABC12", "length"),
        ("5ABC12DE", "length"),
        ("<b>", "length"),
        ("<3", "length"),
        ("😀", "length"),
        (HUGE, "length"),
        ("5AB_12D", "chars"),
        ("5ABß12D", "chars"),
        ("ﬁ123456", "chars"),  # the ligature must not upper-case into "FI"
        ("5AB😀12D", "chars"),
        ("5AB<b>D", "chars"),
        ("١٢٣٤٥٦٧", "chars"),
        ("5А_12DE", "chars"),  # "_" is no letter at all: named before the Cyrillic А ...
        ("5AB_1O3", "chars"),  # ... and before the letter O
        (SQL, "length"),
        (SQL_AT_FIN, "length"),
    ],
)
def test_fin_refused(text: str, code: str) -> None:
    with pytest.raises(InvalidFin) as info:
        parse_fin(text)
    assert info.value.code == code


fins = st.text(alphabet=FIN_ALPHABET, min_size=7, max_size=7)
# No separators (the parser drops those): the length of the text is the length it checks.
FIN_TYPOS = FIN_ALPHABET + FIN_ALPHABET.lower() + "IOioİıАВЕКМНОРСТХавсд_<>';&😀ßﬁ١"
NOT_LETTERS = "_<>';&😀ßﬁ١"


@PROPERTY
@given(st.text(alphabet=FIN_TYPOS, min_size=1, max_size=20).filter(lambda t: len(t) != 7))
def test_fin_of_the_wrong_length_is_refused_for_its_length(text: str) -> None:
    assert code_of(parse_fin, text) == "length"


@PROPERTY
@given(st.text(alphabet=FIN_TYPOS, min_size=6, max_size=6), st.sampled_from(NOT_LETTERS))
def test_fin_with_a_non_letter_is_refused_for_it_first(text: str, odd: str) -> None:
    assert code_of(parse_fin, text + odd) == "chars"


@PROPERTY
@given(st.text())
def test_fin_output_is_valid_and_idempotent(text: str) -> None:
    try:
        value = parse_fin(text)
    except InvalidValue:
        return
    assert FIN_RE.fullmatch(value)
    assert re.fullmatch(r"^[0-9A-HJ-NP-Z]{7}$", value)
    assert parse_fin(value) == value


@PROPERTY
@given(fins)
def test_fin_valid_fins_parse_to_themselves(fin: str) -> None:
    assert parse_fin(fin) == fin


@settings(PROPERTY, max_examples=100)
@given(fins, st.data())
def test_fin_survives_separators_and_lower_case(fin: str, data: st.DataObject) -> None:
    separators = st.text(alphabet=" \t\u00a0\u200b-–—", max_size=3)
    parts = [data.draw(separators)]
    for ch in fin:
        lower = data.draw(st.booleans())
        parts.append(ch.lower() if lower else ch)
        parts.append(data.draw(separators))
    assert parse_fin("".join(parts)) == fin


# --- subscriber code --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456", "123456"),
        ("12 34 56", "123456"),
        ("12-34-56", "123456"),
        (" 12\u00a034\u200b56 \n", "123456"),
        ("123456789012345", "123456789012345"),
        ("000123", "000123"),
    ],
)
def test_subscriber_code_accepted(text: str, expected: str) -> None:
    assert parse_code(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (" - ", "empty"),
        ("12345a", "not_digits"),
        ("١٢٣٤٥٦", "not_digits"),  # Arabic-Indic digits
        ("１２３４５６", "not_digits"),  # full-width digits
        ("12345²", "not_digits"),
        ("12 34 5x", "not_digits"),
        (SQL, "not_digits"),  # 13 characters: a code could be that long
        ("<b>", "format"),  # too short to be a code, whatever the characters
        ("<3", "format"),
        ("😀", "format"),
        (SQL_AT_FIN, "format"),
        ("12345", "format"),
        ("1234567890123456", "format"),
        (HUGE, "format"),
    ],
)
def test_subscriber_code_refused(text: str, code: str) -> None:
    with pytest.raises(InvalidSubscriberCode) as info:
        parse_code(text)
    assert info.value.code == code


def test_subscriber_code_pattern_is_ascii() -> None:
    assert DEFAULT_CODE.flags & re.ASCII
    assert DEFAULT_CODE.fullmatch("١٢٣٤٥٦") is None
    assert compile_subscriber_code_pattern(r"\d+").fullmatch("١٢٣") is None


@pytest.mark.parametrize("pattern", ["", "   ", "(", "a{2,1}", "[0-9", "*"])
def test_bad_subscriber_code_pattern(pattern: str) -> None:
    with pytest.raises(ValueError):
        compile_subscriber_code_pattern(pattern)


def test_subscriber_code_parser() -> None:
    default = SubscriberCodeParser()
    assert default.source == DEFAULT_SUBSCRIBER_CODE_PATTERN
    assert default("12 34 56") == "123456"
    eight = SubscriberCodeParser(r"\d{8}")
    assert eight("1234 5678") == "12345678"
    assert code_of(eight, "1234567") == "format"
    assert code_of(eight, "1234567x") == "not_digits"
    assert eight == SubscriberCodeParser(r"\d{8}")
    assert hash(eight) == hash(SubscriberCodeParser(r"\d{8}"))
    with pytest.raises(AttributeError):
        eight.source = r"\d+"  # type: ignore[misc]
    with pytest.raises(ValueError):
        SubscriberCodeParser("(")


@PROPERTY
@given(st.text(alphabet="0123456789", max_size=20))
def test_subscriber_code_accepts_exactly_6_to_15_digits(digits: str) -> None:
    if 6 <= len(digits) <= 15:
        assert parse_code(digits) == digits
    else:
        assert code_of(parse_code, digits) == ("empty" if not digits else "format")


@PROPERTY
@given(st.text(alphabet="0123456789x<'😀١", min_size=1, max_size=20))
def test_subscriber_code_of_the_wrong_length_is_refused_for_its_length(text: str) -> None:
    if not 6 <= len(text) <= 15:
        assert code_of(parse_code, text) == "format"
    elif not text.isascii() or not text.isdigit():
        assert code_of(parse_code, text) == "not_digits"


def test_subscriber_code_length_is_judged_by_the_pattern() -> None:
    prefixed = SubscriberCodeParser(r"10\d{4}")
    assert code_of(prefixed, "10x4") == "format"
    assert code_of(prefixed, "10x456") == "not_digits"
    assert code_of(prefixed, "1x3456") == "not_digits"  # "103456" would be a code
    assert code_of(prefixed, "20x456") == "format"  # no digit in place of x makes it one


@PROPERTY
@given(st.text())
def test_subscriber_code_output_is_6_to_15_ascii_digits(text: str) -> None:
    try:
        value = parse_code(text)
    except InvalidValue:
        return
    assert re.fullmatch(r"[0-9]{6,15}", value)
    assert parse_code(value) == value


# --- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "050 123 45 67",
        "0501234567",
        "+994501234567",
        "994 50 123 45 67",
        "994501234567",
        "(050) 123-45-67",
        "+994 (50) 123 45 67",
        "00994501234567",
        "50 123 45 67",
        "050.123.45.67",
        " 050\u00a0123 45 67 ",
        "050–123–45–67",
    ],
)
def test_phone_accepted_forms(text: str) -> None:
    assert parse_phone(text) == "+994501234567"


def test_phone_landline() -> None:
    assert parse_phone("012 345 67 89") == "+994123456789"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("  \n ", "empty"),
        ("0" * 33, "too_long"),
        ("5" * 5000, "too_long"),
        ("+7 912 345 67 89", "foreign"),
        ("+90 532 123 45 67", "foreign"),
        ("+995 555 12 34 56", "foreign"),
        ("050 123 45 6", "invalid"),
        ("8 050 123 45 67", "invalid"),
        ("abc", "invalid"),
        ("050 ABC 45 67", "invalid"),
        ("0501234567 ext 5", "invalid"),
        ("0501234567#5", "invalid"),
        ("+", "invalid"),
        ("<b>", "invalid"),
        ("<3", "invalid"),
        ("😀", "invalid"),
        (SQL, "invalid"),
        ("٠٥٠١٢٣٤٥٦٧", "invalid"),
    ],
)
def test_phone_refused(text: str, code: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        parse_phone(text)
    assert info.value.code == code


PHONE_FORMS = [
    "+994{p}{s}",
    "+994 {p} {s3} {s2a} {s2b}",
    "994{p}{s}",
    "00994{p}{s}",
    "0{p}{s}",
    "0{p} {s3} {s2a} {s2b}",
    "(0{p}) {s3}-{s2a}-{s2b}",
    "+994 ({p}) {s3} {s2a} {s2b}",
    "{p} {s3} {s2a} {s2b}",
]


@PROPERTY
@given(
    st.sampled_from(["10", "12", "50", "51", "55", "60", "70", "77", "99"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(PHONE_FORMS),
)
def test_phone_valid_numbers_in_any_form(prefix: str, subscriber: str, form: str) -> None:
    text = form.format(
        p=prefix, s=subscriber, s3=subscriber[:3], s2a=subscriber[3:5], s2b=subscriber[5:]
    )
    value = parse_phone(text)
    assert value == f"+994{prefix}{subscriber}"
    assert parse_phone(value) == value


@PROPERTY
@given(st.one_of(st.text(), st.text(alphabet="0123456789 +()-.", max_size=20)))
def test_phone_output_is_az_e164_and_idempotent(text: str) -> None:
    try:
        value = parse_phone(text)
    except InvalidValue:
        return
    assert value.startswith("+994")
    assert re.fullmatch(r"\+994[0-9]{9}", value)
    assert parse_phone(value) == value


# --- e-mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user@example.com", "user@example.com"),
        ("  Foo.Bar@Example.COM \n", "Foo.Bar@example.com"),
        ("first.last+tag@sub.example.az", "first.last+tag@sub.example.az"),
        ("a@münchen.de", "a@münchen.de"),
    ],
)
def test_email_accepted(text: str, expected: str) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (" \t\n", "empty"),
        ("a" * 250 + "@example.com", "too_long"),
        ("a" * 5000, "too_long"),
        ("plainaddress", "invalid"),
        ("a@b", "invalid"),
        ("a@@example.com", "invalid"),
        ("a@localhost", "invalid"),
        ("Name <a@example.com>", "invalid"),
        ("a b@example.com", "invalid"),
        ("<b>", "invalid"),
        ("<3", "invalid"),
        ("😀", "invalid"),
        (SQL, "invalid"),
    ],
)
def test_email_refused(text: str, code: str) -> None:
    with pytest.raises(InvalidEmail) as info:
        parse_email(text)
    assert info.value.code == code


@settings(PROPERTY, max_examples=50)  # st.emails() is slow to generate
@given(st.emails())
def test_email_output_is_idempotent(text: str) -> None:
    try:
        value = parse_email(text)
    except InvalidValue:
        return
    assert parse_email(value) == value


# --- free text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  hello  ", "hello"),
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\x00b\x07c\x1bd\x7f", "abcd"),
        ("a\tb\n\nc", "a b\n\nc"),  # a tab is a control character: it becomes a space
        ("\x00 text \x00", "text"),
        ("<b>bold</b> & <3", "<b>bold</b> & <3"),  # stored raw, escaped at render time
        (SQL, SQL),
        ("Su yoxdur 😀", "Su yoxdur 😀"),
        ("x" * 1000, "x" * 1000),
    ],
)
def test_text_accepted(text: str, expected: str) -> None:
    assert parse_text(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t", "\x00\x01\x02"])
def test_text_empty(text: str) -> None:
    assert code_of(parse_text, text) == "empty"
    assert parse_text(text, required=False) is None


def test_text_too_long_carries_limit_and_length() -> None:
    with pytest.raises(InvalidText) as info:
        parse_text("x" * 1001)
    assert info.value.code == "too_long"
    assert (info.value.limit, info.value.length) == (1000, 1001)
    with pytest.raises(InvalidText) as info:
        parse_text("  " + "y" * 11 + "\r\n", max_length=10, required=False)
    assert (info.value.limit, info.value.length) == (10, 11)
    assert parse_text("a\r\nb", max_length=3) == "a\nb"  # counted after normalisation
    assert code_of(parse_text, HUGE) == "too_long"


@PROPERTY
@given(st.text(), st.integers(min_value=1, max_value=50), st.booleans())
def test_text_is_bounded_and_clean(text: str, max_length: int, required: bool) -> None:
    try:
        value = parse_text(text, max_length=max_length, required=required)
    except InvalidValue as exc:
        assert exc.code in {"empty", "too_long"}
        assert exc.code != "empty" or required
        return
    if value is None:
        assert not required
        return
    assert 0 < len(value) <= max_length
    assert "\r" not in value and "\x00" not in value
    assert not any(ord(ch) < 0x20 and ch not in "\n\t" for ch in value)
    assert value == value.strip()
    assert parse_text(value, max_length=max_length) == value


# --- the sanitiser ---------------------------------------------------------------------------

FORGED = "Su yoxdur\u202e enoD\u202c\r\nStatus: Done\u2028x\u2029\x85y\x0b\x0c\n\n\n\nz\x00\x1b[0m"
# What may stay of the format characters: the joiners, and tags inside an emoji tag sequence.
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
KEPT_FORMAT = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))


@pytest.mark.parametrize(
    ("text", "multi", "single"),
    [
        (
            FORGED,
            "Su yoxdur enoD\nStatus: Done\nx\n\ny\n\nz[0m",
            "Su yoxdur enoD Status: Done x y z[0m",
        ),
        ("a\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061cb", "ab", "ab"),
        ("e\u0301 \u212b", "\u00e9 \u00c5", "\u00e9 \u00c5"),  # NFC
        ("e\u200b\u0301", "\u00e9", "\u00e9"),  # NFC after the removal
        ("a\u00adb\ufeffc\u2060d", "abcd", "abcd"),  # soft hyphen, BOM, word joiner
        ("  line  \n\n\n  indented  \n", "line\n\n  indented", "line indented"),
        ("\t tab\tin \u00a0 text ", "tab in \u00a0 text", "tab in text"),
        (f"{FAMILY} {ENGLAND} \u0645\u06cc\u200c\u062e\u0648\u0627\u0645", None, None),
        ("x\U000e0041\U000e007fy\U000e0001", "xy", "xy"),  # stray tags
        ("\ud800lone\udfff", "lone", "lone"),  # surrogates: invalid text
        ("\x00\u202e\n\u200b", "", ""),
    ],
)
def test_clean_text_examples(text: str, multi: str | None, single: str | None) -> None:
    assert clean_text(text, multiline=True) == (text if multi is None else multi)
    assert clean_text(text, multiline=False) == (text if single is None else single)


def _allowed(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category not in {"Cc", "Cf", "Cs", "Zl", "Zp"} or ch in KEPT_FORMAT


@PROPERTY
@given(st.text(), st.booleans())
def test_clean_text_properties(text: str, multiline: bool) -> None:
    value = clean_text(text, multiline=multiline)
    assert clean_text(value, multiline=multiline) == value  # idempotent
    assert unicodedata.is_normalized("NFC", value)
    assert not set(value) & BIDI_CONTROLS
    assert all(_allowed(ch) or (multiline and ch == "\n") for ch in value)
    assert value == value.strip()
    assert len(value.splitlines()) == value.count("\n") + 1 or not value  # only \n breaks
    if multiline:
        assert "\n\n\n" not in value and all(line == line.rstrip() for line in value.split("\n"))
    else:
        assert "\n" not in value and "  " not in value


@PROPERTY
@given(
    st.text(
        st.characters(
            codec="utf-8",
            categories=["L", "M", "N", "P", "S", "Zs", "Cc", "Cf"],
            include_characters="\r\n\u2028\u2029" + "".join(BIDI_CONTROLS),
        )
    )
)
def test_clean_text_keeps_the_visible_text(text: str) -> None:
    """Only invisible characters go: the letters, digits and signs stay, in their order.
    (Tag characters, kept only in an emoji flag, are left out of the comparison.)"""

    def tag(ch: str) -> bool:
        return "\U000e0000" <= ch <= "\U000e007f"

    def separator(ch: str) -> bool:  # a space or a line break (not a control that is removed)
        breaks = len(f"a{ch}b".splitlines()) > 1
        return ch.isspace() and (breaks or ch == "\t" or unicodedata.category(ch) != "Cc")

    kept = "".join(ch for ch in text if (_allowed(ch) or separator(ch)) and not tag(ch))
    expected = [ch for ch in unicodedata.normalize("NFC", kept) if not ch.isspace()]
    cleaned = clean_text(text, multiline=True)
    assert [ch for ch in cleaned if not ch.isspace() and not tag(ch)] == expected


@PROPERTY
@given(st.text(), st.integers(min_value=1, max_value=ADDRESS_MAX_LENGTH))
def test_cut_holds_the_limit(text: str, limit: int) -> None:
    value = cut(clean_text(text, multiline=False), limit)
    assert len(value) <= limit
    assert value == clean_text(text, multiline=False) or value.endswith("…")


@PROPERTY
@given(st.text(), st.integers(min_value=1, max_value=50))
def test_text_length_is_checked_after_cleaning(text: str, max_length: int) -> None:
    """Characters the cleaning removes never count: ``max_length`` visible characters pass
    however many bidi, zero-width or control characters surround them."""
    cleaned = clean_text(text, multiline=True)
    noisy = "\u202e\u200b\x00".join(cleaned) + "\r\n" * 50
    if not cleaned or len(cleaned) > max_length:
        return
    assert parse_text(noisy, max_length=max_length) == cleaned


def test_single_line_text() -> None:
    assert parse_text("Elvin\n\u202eMəmmədov", multiline=False) == "Elvin Məmmədov"
    with pytest.raises(InvalidText) as info:
        parse_text("a\nb\nc", max_length=4, multiline=False)
    assert (info.value.limit, info.value.length) == (4, 5)


# --- every parser -----------------------------------------------------------------------------

PARSERS: dict[str, Callable[[str], object]] = {
    "fin": parse_fin,
    "subscriber_code": parse_code,
    "subscriber_code_parser": SubscriberCodeParser(),
    "phone": parse_phone,
    "email": parse_email,
    "text": parse_text,
    "optional_text": lambda text: parse_text(text, max_length=20, required=False),
}


@pytest.mark.parametrize("parser", PARSERS.values(), ids=PARSERS.keys())
@PROPERTY
@given(text=st.text())
def test_parsers_return_or_raise_invalid_value(parser: Callable[[str], object], text: str) -> None:
    try:
        parser(text)
    except InvalidValue as exc:
        assert isinstance(exc.code, str) and exc.code
    # any other exception fails the test


def test_inputs_are_read_up_to_their_limits() -> None:
    # A token typed with separators may be 256 characters, a phone 32, an e-mail 254.
    assert parse_fin("5ABC12D" + " " * 249) == "5ABC12D"
    with pytest.raises(InvalidFin) as fin:
        parse_fin("5ABC12D" + " " * 250)
    assert parse_code("100001" + " " * 250) == "100001"
    with pytest.raises(InvalidSubscriberCode) as code:
        parse_code("100001" + " " * 251)
    assert parse_phone("+994" + " " * 19 + "501234567") == "+994501234567"
    with pytest.raises(InvalidPhone) as phone:
        parse_phone("+994" + " " * 20 + "501234567")
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    assert parse_email(email) == email
    with pytest.raises(InvalidEmail) as too_long:
        parse_email("a" + email)
    assert (fin.value.code, code.value.code) == ("length", "format")
    assert (phone.value.code, too_long.value.code) == ("too_long", "too_long")


@pytest.mark.parametrize("parser", PARSERS.values(), ids=PARSERS.keys())
def test_huge_input_is_refused(parser: Callable[[str], object]) -> None:
    # Speed is the benchmark's business; here only the outcome is checked.
    for text in (HUGE, "a" * 5000, "😀" * 5000, "9" * 5000):
        with pytest.raises(InvalidValue):
            parser(text)
    # Padding is trimmed first, and what is left is judged on its own.
    padded = " " * 4999 + "x"
    if parser in (PARSERS["text"], PARSERS["optional_text"]):
        assert parser(padded) == "x"
    else:
        with pytest.raises(InvalidValue):
            parser(padded)

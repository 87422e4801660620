"""The catalogues held to ``locales/GLOSSARY.md``, and the forms that are the same in every
language: money ``12,50 ₼``, dates ``07.12.2026, 05:16 (Bakı vaxtı)``, ``№ 12`` and phones
``+994 50 123 45 67`` (issue 18: words a citizen understands).

No native speaker reviews the catalogues here, so the glossary is the review: one word per
concept in each language, no jargon, the Russian reader addressed as "Вы".
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.pofile import read_po

from bot.catalogues import LOCALES_DIR
from bot.staff.render import render_card
from dialogs.wording import (
    NBSP,
    fmt_dt,
    fmt_money,
    fmt_phone,
    numbered,
    translator,
)
from tests.support import draft
from workflows.models import Application, ApplicationKind

GLOSSARY = LOCALES_DIR / "GLOSSARY.md"
LANGS = ("az", "ru", "en")
TAG = re.compile(r"<[^>]+>")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
PATTERN = re.compile(r"`([^`]+)`")
NEVER = re.compile(r"\b(az|ru|en|all)\s+((?:`[^`]+`(?:,\s*)?)+)")


@dataclass(frozen=True)
class Term:
    concept: str
    patterns: dict[str, str]  # language -> what its translation must contain
    never: dict[str, tuple[str, ...]]  # language (or "all") -> words it must not use


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in CELL_SPLIT.split(line.strip())[1:-1]]


def glossary() -> list[Term]:
    """The rows of the glossary's table (its first table: Concept | az | ru | en | Never)."""
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Concept |"))
    header = _cells(lines[start])
    assert header == ["Concept", *LANGS, "Never"], header
    terms = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        concept, *langs, never = _cells(line)
        patterns = {
            lang: found[0]
            for lang, cell in zip(LANGS, langs, strict=True)
            if (found := PATTERN.findall(cell))
        }
        forbidden = {lang: tuple(PATTERN.findall(words)) for lang, words in NEVER.findall(never)}
        terms.append(Term(concept, patterns, forbidden))
    return terms


def catalogue(locale: str) -> dict[str, str]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale=locale) if m.id}


PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def plain(text: str) -> str:
    """The words a reader sees: no tags, and no placeholders (``{reason}`` is a value)."""
    return PLACEHOLDER.sub("", TAG.sub("", text))


TERMS = glossary()
CATALOGUES = {locale: catalogue(locale) for locale in LANGS}


def test_the_glossary_has_its_terms() -> None:
    concepts = {term.concept.split(" (")[0] for term in TERMS}
    assert {"application", "subscriber code", "debt", "the utility", "FIN"} <= concepts
    # a row that picks messages (an en pattern) says what each language must call it
    assert all(set(t.patterns) == set(LANGS) for t in TERMS if "en" in t.patterns)


@pytest.mark.parametrize("term", [t for t in TERMS if "en" in t.patterns], ids=lambda t: t.concept)
@pytest.mark.parametrize("locale", LANGS)
def test_a_message_about_a_concept_uses_the_glossary_word(term: Term, locale: str) -> None:
    trigger = re.compile(term.patterns["en"], re.IGNORECASE)
    wanted = re.compile(term.patterns[locale], re.IGNORECASE)
    about = {i: s for i, s in CATALOGUES[locale].items() if trigger.search(plain(i))}
    assert about, f"no message speaks of {term.concept}: is the en pattern right?"
    wrong = [s for s in about.values() if not wanted.search(plain(s))]
    assert not wrong, f"{locale}: {term.concept} is not “{term.patterns[locale]}” in {wrong}"


@pytest.mark.parametrize("locale", LANGS)
def test_no_translation_uses_a_word_the_glossary_forbids(locale: str) -> None:
    found = []
    for term in TERMS:
        for word in term.never.get(locale, ()) + term.never.get("all", ()):
            never = re.compile(rf"(?<!\w)(?:{word})(?!\w)", re.IGNORECASE)
            found += [(word, s) for s in CATALOGUES[locale].values() if never.search(plain(s))]
    assert not found, f"{locale}: {found}"


def test_jargon_is_caught() -> None:
    """The check above can fail: "billing" and "долг" are what it was written against."""
    never = {w for t in TERMS for w in t.never.get("all", ()) + t.never.get("ru", ())}
    assert any(re.fullmatch(w, "billing", re.IGNORECASE) for w in never)
    assert any(re.fullmatch(w, "долг", re.IGNORECASE) for w in never)
    assert any(re.fullmatch(w, "счёт", re.IGNORECASE) for w in never)


RU_LOWER_YOU = re.compile(r"(?<![А-Яа-яЁё])(вы|вас|вам|вами|ваш\w*)(?![А-Яа-яЁё])")


def test_russian_addresses_the_reader_as_capitalised_vy() -> None:
    lower = [s for s in CATALOGUES["ru"].values() if RU_LOWER_YOU.search(s)]
    assert not lower
    assert RU_LOWER_YOU.search("Оплатите, пожалуйста, ваш долг")  # the check can fail


@pytest.mark.parametrize("locale", LANGS)
def test_the_number_sign_stays_with_its_number(locale: str) -> None:
    """ "№ 12" with a non-breaking space, in English too (no "No. 12")."""
    for msgid, text in CATALOGUES[locale].items():
        assert "№ " not in text and "№{" not in text, text
        assert re.search(r"\bNo\.\s*\{", text) is None, text
        if "{number}" in msgid and "№" in msgid:
            assert f"№{NBSP}{{number}}" in text, text
    assert numbered(125) == "№\u00a0125"


# --- money, dates and phones: one form in every language -----------------------------------
I18N = I18n(path=LOCALES_DIR, default_locale="az", domain="messages")
ZONE = {"az": "(Bakı vaxtı)", "ru": "(по бакинскому времени)", "en": "(Baku time)"}


@pytest.mark.parametrize("locale", LANGS)
def test_money_reads_the_same_in_every_language(locale: str) -> None:
    line = I18N.gettext("Debt: <b>{debt_amount}</b>", locale=locale)
    shown = line.format(debt_amount=fmt_money(Decimal("12.50")))
    assert "<b>12,50\u00a0₼</b>" in shown
    assert fmt_money(Decimal("1234.5")) == "1.234,50\u00a0₼"
    assert fmt_money(Decimal("0.05")) == "0,05\u00a0₼"


@pytest.mark.parametrize("locale", LANGS)
def test_a_date_is_baku_time_with_the_zone_named(locale: str) -> None:
    moment = datetime(2026, 12, 7, 1, 16, tzinfo=UTC)  # 05:16 in Baku
    assert fmt_dt(moment, translator(I18N, locale)) == f"07.12.2026, 05:16 {ZONE[locale]}"


def test_phones_are_grouped_the_way_they_are_said() -> None:
    assert fmt_phone("+994501234567") == "+994 50 123 45 67"
    assert fmt_phone("+994124901234") == "+994 12 490 12 34"
    assert fmt_phone("not a number") == "not a number"
    assert fmt_phone(None) == ""


@pytest.mark.parametrize("locale", LANGS)
def test_the_staff_card_shows_the_phone_grouped_and_the_date_zoned(locale: str) -> None:
    registered = datetime(2026, 12, 7, 1, 16, tzinfo=UTC)
    app = Application.register(
        draft("100001", locale=locale), kind=ApplicationKind.SUSPEND, address="Bakı", at=registered
    )
    app = dataclasses.replace(app, number=12)
    assert app.phone == "+994501234567"  # as stored: E.164
    card = render_card(app, "Temporary absence", translator(I18N, locale))
    assert "+994 50 123 45 67" in card
    assert f"07.12.2026, 05:16 {ZONE[locale]}" in card
    assert f"№{NBSP}12" in card

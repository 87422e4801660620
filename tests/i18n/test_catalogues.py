"""The catalogues: complete in every language of ``dialogs.wording.LANGUAGES`` (the strings
and the reason labels), and the manual's strings verbatim in az."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.catalogues import DOMAIN, LOCALES_DIR
from dialogs.wording import LOCALES
from storage.catalogue import load_reason_catalogue

# The utility's manual (seed/manual.az.txt): UI strings the az catalogue must carry word
# for word, keyed by our English msgid.
MANUAL_AZ = {
    "Create a new application": "Yeni müraciət yarat",
    "Check the application's status": "Müraciətin statusunu yoxla",
    "Continue": "Davam et",
    "Pay the debt": "Borcu ödə",
    "This subscriber currently has an outstanding debt. Pay the debt and try again to carry "
    "out the operation.": "Hal hazırda bu abonentin qalıq borcu vardır. Əməliyyat etmək üçün "
    "borcu ödəyib yenidən cəhd edin.",
    "Your application has been registered. Thank you for using our service. Your application "
    "number: {number}": "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün "
    "sizə təşəkkür edirik. Müraciət nömrəniz: {number}",
}


def load(locale: str):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def test_template_is_up_to_date(tmp_path: Path) -> None:
    """The committed .pot holds exactly the strings the code uses."""
    out = tmp_path / "messages.pot"
    root = LOCALES_DIR.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(LOCALES_DIR / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "I18nConst",
            "-k",
            "I18nFormat",
            "-k",
            "gettext",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(out),
            "bot",
            "dialogs",
            "workflows",
        ],
        check=True,
        cwd=root,
        capture_output=True,
    )
    with out.open("rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    assert extracted == template_ids()


def test_the_catalogues_are_the_listed_languages() -> None:
    """A language is its catalogue and its line in LANGUAGES: neither without the other."""
    folders = {po.parent.parent.name for po in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    assert folders == set(LOCALES)


@pytest.mark.parametrize("locale", tuple(LOCALES))
def test_every_reason_is_labelled(locale: str) -> None:
    catalogue = load_reason_catalogue()
    missing = [r.code for r in catalogue.reasons if (r.code, locale) not in catalogue.labels]
    assert not missing, f"{locale}: no label for {missing} in storage/seed/reason_labels.csv"


def test_reason_labels_are_in_listed_languages_only() -> None:
    assert {locale for _code, locale in load_reason_catalogue().labels} <= set(LOCALES)


@pytest.mark.parametrize("locale", tuple(LOCALES))
def test_every_msgid_is_translated(locale: str) -> None:
    catalog = load(locale)
    ids = template_ids()
    missing = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not missing, f"{locale}: untranslated {missing[:5]} (+{max(0, len(missing) - 5)})"
    assert not fuzzy, f"{locale}: fuzzy {fuzzy[:5]}"


@pytest.mark.parametrize("locale", tuple(LOCALES))
def test_placeholders_survive_translation(locale: str) -> None:
    import re

    catalog = load(locale)
    for message in catalog:
        if not message.id or not message.string:
            continue
        wanted = set(re.findall(r"\{(\w+)\}", message.id))
        got = set(re.findall(r"\{(\w+)\}", message.string))
        assert wanted == got, f"{locale}: {message.id!r} -> {message.string!r}"


@pytest.mark.parametrize(("msgid", "az"), MANUAL_AZ.items())
def test_az_catalogue_has_the_manual_strings_verbatim(msgid: str, az: str) -> None:
    assert load("az").get(msgid).string == az

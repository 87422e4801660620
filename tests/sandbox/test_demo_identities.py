"""The sandbox's preset subscribers and the demo registry agree: sharing a preset's own
contact proves the FIN the registry names as owner of its codes (issue 16, item 2), and the
registry keeps the cases the rules need: codes without an owner FIN, a code without a phone."""

from __future__ import annotations

import csv

from sandbox.records import PRESET_SUBSCRIBERS
from tests.storage.registry_files import DEMO
from workflows.values import parse_fin, parse_phone


def demo_rows() -> list[dict[str, str]]:
    with DEMO.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_each_preset_owns_codes_whose_phone_is_its_own() -> None:
    rows = demo_rows()
    for person in PRESET_SUBSCRIBERS:
        assert person.fin is not None and parse_fin(person.fin) == person.fin
        owned = [row for row in rows if row["owner_fin"] == person.fin]
        active = [row for row in owned if row["service_state"] == "active"]
        phones = {parse_phone(row["phone"]) for row in owned if row["phone"]}
        assert owned, person.first_name
        assert phones == {parse_phone(person.phone_number)}, person.first_name
        assert active or person.first_name == "Дмитрий"  # Dmitri's are suspended


def test_the_demo_keeps_codes_without_an_owner_and_one_without_a_phone() -> None:
    rows = {row["subscriber_code"]: row for row in demo_rows()}
    presets = {parse_phone(p.phone_number) for p in PRESET_SUBSCRIBERS}

    no_owner = sorted(code for code, row in rows.items() if not row["owner_fin"])
    no_phone = sorted(code for code, row in rows.items() if not row["phone"])

    assert no_owner == ["100004", "100011"]
    # A code without an owner FIN is accepted only with a phone match: a preset's phone.
    assert all(parse_phone(rows[code]["phone"]) in presets for code in no_owner)
    assert no_phone == ["100015"]
    assert rows["100015"]["owner_fin"] == "5ABC12D"

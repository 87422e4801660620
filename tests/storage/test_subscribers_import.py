"""Registry import: validation with line numbers, all-or-nothing, re-import, progress.

The database tests run on SQLite and, when ``TEST_DATABASE_URL`` names a PostgreSQL
database (``postgresql+asyncpg://...``), on PostgreSQL too. Its tables are dropped and
re-created for every test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.subscribers_import.loading as registry_loading
from storage.models import Base, SubscriberRow, UserRow
from storage.subscribers_import import (
    MAX_REPORTED_ERRORS,
    ImportFailed,
    ImportResult,
    import_subscribers,
)
from tests.storage.databases import SQLITE_AND_POSTGRES
from tests.storage.registry_files import (
    DEMO,
    DEMO_ROWS,
    HEADER_LINE,
    fresh_engine,
    snapshot,
    sqlite_url,
    write_csv,
)
from tests.support import isolated_pg_url
from workflows.values import ADDRESS_MAX_LENGTH


@pytest.fixture(params=SQLITE_AND_POSTGRES)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else isolated_pg_url("import")
    engine = await fresh_engine(url)
    yield engine
    if request.param == "postgresql":
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
    await engine.dispose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await fresh_engine(sqlite_url(tmp_path))
    yield engine
    await engine.dispose()


async def _row(engine: AsyncEngine, code: str) -> SubscriberRow:
    table = SubscriberRow.__table__
    async with engine.connect() as conn:
        return (await conn.execute(select(table).where(table.c.code == code))).one()


# --- happy path (SQLite and PostgreSQL) ----------------------------------------------


async def test_demo_registry_imports(engine: AsyncEngine) -> None:
    result = await import_subscribers(engine, DEMO)

    assert result == ImportResult(added=DEMO_ROWS, updated=0, total=DEMO_ROWS)
    assert len(await snapshot(engine)) == DEMO_ROWS
    active = await _row(engine, "100001")
    assert (active.meterless, active.debt_azn, active.service_state, active.owner_fin) == (
        True,
        Decimal("0.00"),
        "active",
        "5ABC12D",
    )
    assert active.phone == "+994501234567"
    assert (await _row(engine, "100002")).service_state == "suspended"
    assert (await _row(engine, "100003")).debt_azn == Decimal("12.50")
    assert (await _row(engine, "100004")).meterless is False
    assert (await _row(engine, "100005")).owner_fin == "5ABC12D"
    assert (await _row(engine, "100001")).address == "Bakı ş., Nəsimi r., Azadlıq pr. 12, m. 5"
    # The demo keeps codes without an owner FIN (100004, 100011) and one without a phone.
    no_owner = await _row(engine, "100011")
    assert (no_owner.owner_fin, no_owner.phone) == (None, "+994701234567")
    assert (await _row(engine, "100015")).phone is None


async def test_reimport_updates_existing_rows(engine: AsyncEngine, tmp_path: Path) -> None:
    await import_subscribers(engine, DEMO)
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("100001,5ABC12D,true,0.00,active,")
    lines[1] = lines[1].replace(",5ABC12D,true,0.00,active", ",1AB2CD3,true,12.5,suspended")
    assert lines[5].startswith("100005,5ABC12D,")
    lines[5] = lines[5].replace("5ABC12D", "")
    changed = write_csv(tmp_path, *lines)
    before = {row[0]: row for row in await snapshot(engine)}

    result = await import_subscribers(engine, changed)

    assert result == ImportResult(added=0, updated=DEMO_ROWS, total=DEMO_ROWS)
    row = await _row(engine, "100001")
    assert row.debt_azn == Decimal("12.50")
    assert str(row.debt_azn) == "12.50"
    assert (row.service_state, row.owner_fin) == ("suspended", "1AB2CD3")
    assert (await _row(engine, "100005")).owner_fin is None
    after = {row[0]: row for row in await snapshot(engine)}
    assert {code for code in after if after[code] != before[code]} == {"100001", "100005"}


async def test_reimport_counts_added_and_updated(engine: AsyncEngine, tmp_path: Path) -> None:
    await import_subscribers(engine, DEMO)
    mixed = write_csv(
        tmp_path,
        HEADER_LINE,
        "100001,,true,0.00,active,Bakı ş. 1",
        "200001,,true,0.00,active,Bakı ş. 2",
        "200002,,yes,3,active,Bakı ş. 3",
    )

    result = await import_subscribers(engine, mixed, batch_size=2)

    assert result == ImportResult(added=2, updated=1, total=3)
    assert len(await snapshot(engine)) == DEMO_ROWS + 2
    assert (await _row(engine, "200002")).debt_azn == Decimal("3.00")
    # Rows absent from the file stay.
    assert (await _row(engine, "100015")).service_state == "active"


async def test_invalid_last_row_imports_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    await import_subscribers(engine, DEMO)
    before = await snapshot(engine)
    valid = [f"{300000 + i},,true,0.00,active,Bakı ş. {i}" for i in range(10)]
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        "100003,,true,0.00,active,Bakı ş. debt paid",  # an update that must not happen
        *valid,
        "300099,,true,0.00,closed,Bakı ş. 99",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(engine, path, batch_size=3)

    assert [(e.line, e.message) for e in failed.value.errors] == [
        (13, "service_state 'closed' must be one of active/suspended")
    ]
    assert await snapshot(engine) == before


async def test_failure_while_loading_rolls_back(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database-side failure after the merge leaves the old registry intact."""
    await import_subscribers(engine, DEMO)
    before = await snapshot(engine)
    real_merge = registry_loading._merge

    async def merge_then_fail(conn: Any, *args: Any) -> tuple[int, int]:
        await real_merge(conn, *args)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(registry_loading, "_merge", merge_then_fail)
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    path = write_csv(tmp_path, *lines, "999999,,true,1.00,active,Bakı ş. 9,")

    with pytest.raises(RuntimeError):
        await import_subscribers(engine, path, batch_size=4)
    assert await snapshot(engine) == before

    # The connection went back to the pool clean: the next import works.
    monkeypatch.setattr(registry_loading, "_merge", real_merge)
    result = await import_subscribers(engine, path, batch_size=4)
    assert result == ImportResult(added=1, updated=DEMO_ROWS, total=DEMO_ROWS + 1)


async def test_bot_can_write_while_the_file_loads(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection commits while the import runs, before the merge.

    On SQLite it commits after the import has read ``subscribers`` (pruning unchanged
    rows): a merge in that same transaction would fail on its stale WAL snapshot.
    """
    hook = "_prune" if engine.dialect.name == "sqlite" else "_stage"
    real = getattr(registry_loading, hook)

    async def then_bot_writes(*args: Any) -> Any:
        outcome = await real(*args)
        async with engine.begin() as bot:
            await bot.execute(
                insert(UserRow.__table__).values(
                    telegram_user_id=42, locale="az", fin=None, updated_at=datetime.now(UTC)
                )
            )
        return outcome

    monkeypatch.setattr(registry_loading, hook, then_bot_writes)

    result = await import_subscribers(engine, DEMO)

    assert result.added == DEMO_ROWS
    async with engine.connect() as conn:
        users = await conn.execute(select(UserRow.__table__.c.telegram_user_id))
        assert users.all() == [(42,)]


async def test_progress_is_reported_in_both_passes(engine: AsyncEngine) -> None:
    calls: list[tuple[int, int]] = []

    await import_subscribers(
        engine, DEMO, batch_size=4, progress=lambda d, t: calls.append((d, t))
    )

    validation = [done for done, total in calls if total == 0]
    loading = [(done, total) for done, total in calls if total != 0]
    assert validation == [4, 8, 12, DEMO_ROWS]
    assert loading == [(4, 15), (8, 15), (12, 15), (15, 15)]
    assert calls.index((DEMO_ROWS, 0)) < calls.index((4, 15))


# --- validation (no database difference: the file is checked before any write) -------

BAD_ROWS = [
    pytest.param(
        "100009,,maybe,0.00,active,Bakı ş.",
        "meterless 'maybe' must be one of true/false/1/0/yes/no",
        id="meterless",
    ),
    pytest.param(
        '100009,,true,"12,50",active,Bakı ş.',
        "debt_azn '12,50': use a dot as the decimal separator (e.g. 12.50)",
        id="comma-decimal",
    ),
    pytest.param(
        "100009,,true,-1.00,active,Bakı ş.",
        "debt_azn '-1.00' must not be negative",
        id="negative-debt",
    ),
    pytest.param(
        "100009,,true,1.005,active,Bakı ş.",
        "debt_azn '1.005' has more than 2 decimals",
        id="three-decimals",
    ),
    pytest.param(
        "100009,,true,1e3,active,Bakı ş.",
        "debt_azn '1e3' is not a decimal number (e.g. 12.50)",
        id="exponent",
    ),
    pytest.param(
        "100009,,true,,active,Bakı ş.",
        "debt_azn '' is not a decimal number (e.g. 12.50)",
        id="empty-debt",
    ),
    pytest.param(
        "100009,,true,1234567890123,active,Bakı ş.",
        "debt_azn '1234567890123' is too large (at most 12 digits)",
        id="debt-too-large",
    ),
    pytest.param(
        "100009,,true,0.00,blocked,Bakı ş.",
        "service_state 'blocked' must be one of active/suspended",
        id="state",
    ),
    pytest.param(
        "100009,5ABC1OD,true,0.00,active,Bakı ş.",
        "owner_fin is not a valid FIN (7 characters: digits and Latin capitals except I and O)",
        id="fin",
    ),
    pytest.param(
        "100009,5ABC12,true,0.00,active,Bakı ş.",
        "owner_fin is not a valid FIN (7 characters: digits and Latin capitals except I and O)",
        id="fin-short",
    ),
    pytest.param("100009,,true,0.00,active,", "address is empty", id="empty-address"),
    pytest.param("100009,,true,0.00,active,   ", "address is empty", id="blank-address"),
    pytest.param(
        "100009,,true,0.00,active," + "a" * 501,
        "address is longer than 500 characters",
        id="long-address",
    ),
    pytest.param(
        "A100009,,true,0.00,active,Bakı ş.",
        "subscriber_code 'A100009' must be 1 to 32 digits",
        id="code-letters",
    ),
    pytest.param(
        "1" * 33 + ",,true,0.00,active,Bakı ş.",
        f"subscriber_code '{'1' * 33}' must be 1 to 32 digits",
        id="code-too-long",
    ),
    pytest.param(
        "100001,,true,0.00,active,Bakı ş.",
        "subscriber_code 100001 already appears on line 2",
        id="duplicate",
    ),
    pytest.param("100009,,true,0.00,active", "expected 6 columns, found 5", id="5-columns"),
    pytest.param(
        "100009,,true,0.00,active,Bakı ş.,extra",
        "expected 6 columns, found 7",
        id="7-columns",
    ),
]


@pytest.mark.parametrize(("bad_row", "message"), BAD_ROWS)
async def test_bad_row_is_reported_and_nothing_imported(
    sqlite_engine: AsyncEngine, tmp_path: Path, bad_row: str, message: str
) -> None:
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        "100001,,true,0.00,active,Bakı ş. 1",
        "100002,,true,0.00,active,Bakı ş. 2",
        bad_row,
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [(e.line, e.message) for e in failed.value.errors] == [(4, message)]
    assert failed.value.total_errors == 1
    assert await snapshot(sqlite_engine) == []


async def test_wrong_header_is_reported_on_line_1(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "code,owner_fin,meterless,debt_azn,service_state,address",
        "100001,,true,0.00,active,Bakı ş. 1",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    [error] = failed.value.errors
    assert error.line == 1
    assert HEADER_LINE in error.message


async def test_semicolon_separated_file_gets_a_hint(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, HEADER_LINE.replace(",", ";"), "100001;;true;0.00;active;Bakı")

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    [error] = failed.value.errors
    assert error.line == 1
    assert "not semicolons" in error.message


async def test_broken_quoting_stops_at_its_line(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        "100001,,maybe,0.00,active,Bakı ş. 1",
        '100002,,true,0.00,active,"Bakı" ş. 2',
        "100003,,true,0.00,active,Bakı ş. 3",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [e.line for e in failed.value.errors] == [2, 3]
    assert failed.value.errors[1].message.startswith("unreadable CSV:")
    assert await snapshot(sqlite_engine) == []


async def test_empty_file_is_reported(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [e.line for e in failed.value.errors] == [1]


async def test_header_only_imports_nothing(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    result = await import_subscribers(sqlite_engine, write_csv(tmp_path, HEADER_LINE))
    assert result == ImportResult(added=0, updated=0, total=0)


async def test_every_bad_line_is_listed_in_order(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        "100001,,maybe,0.00,closed,Bakı ş. 1",
        "100002,,true,0.00,active,Bakı ş. 2",
        "100003,,true,0.00,active",
        "100002,,true,0.00,active,Bakı ş. 2",
        "100004,,true,0.00,active,Bakı ş. 4",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [(e.line, e.message) for e in failed.value.errors] == [
        (
            2,
            "meterless 'maybe' must be one of true/false/1/0/yes/no; "
            "service_state 'closed' must be one of active/suspended",
        ),
        (4, "expected 6 columns, found 5"),
        (5, "subscriber_code 100002 already appears on line 3"),
    ]


async def test_error_list_is_capped_but_counted(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    bad = [f"{100000 + i},,true,0.00,closed,Bakı ş." for i in range(MAX_REPORTED_ERRORS + 50)]
    path = write_csv(tmp_path, HEADER_LINE, *bad)

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path, batch_size=7)

    assert len(failed.value.errors) == MAX_REPORTED_ERRORS
    assert failed.value.total_errors == MAX_REPORTED_ERRORS + 50
    assert failed.value.errors[-1].line == MAX_REPORTED_ERRORS + 1


async def test_line_numbers_are_physical_lines(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    """A quoted field spanning two lines shifts the following line numbers."""
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        '100001,,true,1.234,active,"Bakı ş.,',
        'Nəsimi r."',
        "100002,,true,0.00,unknown,Bakı ş.",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [e.line for e in failed.value.errors] == [2, 4]
    assert "more than 2 decimals" in failed.value.errors[0].message


async def test_address_is_cleaned_to_one_line(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    """Issue 17: an address is single-line free text. Line breaks are joined with a space,
    control and bidi characters removed, and the 500 characters counted after that."""
    forged = "Bakı ş.,\r\nStatus: Done\u202e\u2066 10\x07\u200b, m. 5"
    long = "Bakı ş. " + "\u202e\u200b" * 400 + "ə" * (ADDRESS_MAX_LENGTH - 8)
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        f'100001,,true,0.00,active,"{forged}"',
        f"100002,,true,0.00,active,{long}",
        "100003,,true,0.00,active,\u202e\u200b \x07",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)
    assert [(e.line, e.message) for e in failed.value.errors] == [(5, "address is empty")]

    path.write_text(path.read_text(encoding="utf-8").rsplit("100003", 1)[0], encoding="utf-8")
    assert await import_subscribers(sqlite_engine, path) == ImportResult(
        added=2, updated=0, total=2
    )
    assert (await _row(sqlite_engine, "100001")).address == "Bakı ş., Status: Done 10, m. 5"
    kept = (await _row(sqlite_engine, "100002")).address
    assert kept == "Bakı ş. " + "ə" * (ADDRESS_MAX_LENGTH - 8) and len(kept) == ADDRESS_MAX_LENGTH


async def test_invalid_utf8_is_reported_on_its_line(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (HEADER_LINE + "\n100001,,true,0.00,active,Bakı\n").encode()
        + "100002,,true,0.00,active,Bakı\n".encode("cp1254")
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [(e.line, e.message) for e in failed.value.errors] == [
        (3, "address is not valid UTF-8 text")
    ]


async def test_values_are_normalised(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER_LINE,
        "007, 5abc12d ,YES,7,Active,  Bakı ş.  ",
        "7,,No,0.5,SUSPENDED,Bakı ş.",
        bom=True,
    )

    result = await import_subscribers(sqlite_engine, path)

    assert result == ImportResult(added=2, updated=0, total=2)
    padded, plain = await _row(sqlite_engine, "007"), await _row(sqlite_engine, "7")
    assert (padded.owner_fin, padded.meterless, padded.debt_azn) == (
        "5ABC12D",
        True,
        Decimal("7.00"),
    )
    assert (padded.service_state, padded.address) == ("active", "Bakı ş.")
    assert (plain.meterless, plain.debt_azn, plain.service_state) == (
        False,
        Decimal("0.50"),
        "suspended",
    )


async def test_bom_is_accepted(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    path = write_csv(tmp_path, *DEMO.read_text(encoding="utf-8").splitlines(), bom=True)
    result = await import_subscribers(sqlite_engine, path)
    assert result.added == DEMO_ROWS


async def test_custom_fin_parser(sqlite_engine: AsyncEngine, tmp_path: Path) -> None:
    def fin_parser(raw: str) -> str:
        if raw != "legacy":
            raise ValueError(raw)
        return "1234567"

    path = write_csv(
        tmp_path,
        HEADER_LINE,
        "100001,legacy,true,0.00,active,Bakı ş.",
    )
    await import_subscribers(sqlite_engine, path, fin_parser=fin_parser)
    assert (await _row(sqlite_engine, "100001")).owner_fin == "1234567"

    rejected = write_csv(tmp_path, HEADER_LINE, "100002,5ABC12D,true,0.00,active,Bakı ş.")
    with pytest.raises(ImportFailed):
        await import_subscribers(sqlite_engine, rejected, fin_parser=fin_parser)


async def test_file_changed_between_passes_imports_nothing(
    sqlite_engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path, *DEMO.read_text(encoding="utf-8").splitlines())
    real_validate = registry_loading.validate

    async def validate_then_append(*args: Any) -> int:
        total = await real_validate(*args)
        with path.open("a", encoding="utf-8") as stream:
            stream.write("100016,,true,0.00,active,Bakı ş.,\n")
        return total

    monkeypatch.setattr(registry_loading, "validate", validate_then_append)

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [e.line for e in failed.value.errors] == [0]
    assert await snapshot(sqlite_engine) == []


# --- the optional phone column (issue 16) ------------------------------------------------
PHONE_HEADER = HEADER_LINE + ",phone"


async def test_phones_are_stored_in_e164(engine: AsyncEngine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        PHONE_HEADER,
        "100001,5ABC12D,true,0.00,active,Bakı ş. 1,050 123 45 67",
        "100002,,true,0.00,active,Bakı ş. 2,+994 (55) 111-22-33",
        "100003,,true,0.00,active,Bakı ş. 3,994701234567",
        "100004,,true,0.00,active,Bakı ş. 4,",
    )

    assert await import_subscribers(engine, path) == ImportResult(added=4, updated=0, total=4)

    phones = [(await _row(engine, f"10000{i}")).phone for i in range(1, 5)]
    assert phones == ["+994501234567", "+994551112233", "+994701234567", None]


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("12345", "phone is not a valid phone number"),
        ("050 123 45 6x", "phone is not a valid phone number"),
        ("+7 916 123 45 67", "phone is not an Azerbaijani number"),
        ("0" * 40, "phone is too long"),
    ],
)
async def test_a_bad_phone_is_a_row_error_that_does_not_show_it(
    sqlite_engine: AsyncEngine, tmp_path: Path, phone: str, message: str
) -> None:
    path = write_csv(
        tmp_path,
        PHONE_HEADER,
        "100001,,true,0.00,active,Bakı ş. 1,0501234567",
        f"100002,,maybe,0.00,active,Bakı ş. 2,{phone}",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    [error] = failed.value.errors
    assert error.line == 3
    assert error.message == f"meterless 'maybe' must be one of true/false/1/0/yes/no; {message}"
    assert phone not in error.message
    assert await snapshot(sqlite_engine) == []


async def test_a_file_without_phones_keeps_the_stored_ones_and_an_empty_phone_clears(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await import_subscribers(engine, DEMO)
    without_phones = write_csv(
        tmp_path,
        HEADER_LINE,
        "100001,5ABC12D,true,0.00,suspended,Bakı ş. 1",  # changed, phone not in the file
        '100002,2RST4UV,true,0.00,suspended,"Bakı ş., Yasamal r., Şərifzadə küç. 48, m. 17"',
        name="no-phones.csv",
    )

    result = await import_subscribers(engine, without_phones)

    assert result == ImportResult(added=0, updated=2, total=2)
    first = await _row(engine, "100001")
    assert (first.service_state, first.phone) == ("suspended", "+994501234567")
    assert (await _row(engine, "100002")).phone == "+994551112233"

    cleared = write_csv(
        tmp_path,
        PHONE_HEADER,
        "100001,5ABC12D,true,0.00,suspended,Bakı ş. 1,",
        '100002,2RST4UV,true,0.00,suspended,"Bakı ş., Yasamal r., Şərifzadə küç. 48, m. 17",'
        "055 999 88 77",
        name="phones.csv",
    )
    await import_subscribers(engine, cleared)

    assert (await _row(engine, "100001")).phone is None
    assert (await _row(engine, "100002")).phone == "+994559998877"


async def test_with_the_phone_column_every_row_needs_it(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        PHONE_HEADER,
        "100001,,true,0.00,active,Bakı ş. 1,0501234567",
        "100002,,true,0.00,active,Bakı ş. 2",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    assert [(e.line, e.message) for e in failed.value.errors] == [
        (3, "expected 7 columns, found 6")
    ]


async def test_the_header_names_the_optional_phone(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, HEADER_LINE + ",telephone", "100001,,true,0.00,active,Bakı,")

    with pytest.raises(ImportFailed) as failed:
        await import_subscribers(sqlite_engine, path)

    [error] = failed.value.errors
    assert error.line == 1 and "(optionally followed by ,phone)" in error.message

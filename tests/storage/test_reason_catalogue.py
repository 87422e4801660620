"""The reason catalogue's data files are its source of truth: the start syncs the tables from
them, writes nothing when they agree, deactivates (never deletes) a reason that leaves them,
and refuses a file it cannot read, naming the file and the line."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.catalogue import (
    LABELS_FILE,
    REASONS_FILE,
    SEED_DIR,
    CatalogueFileError,
    load_reason_catalogue,
    sync_reason_catalogue,
)
from storage.database import create_engine, create_session_factory
from storage.repositories import SqlTransactionFactory
from storage.support import SqlSupportQueries
from tests.support import migrated_pg_url

ABSENCE_EN = "Away for a while (travel, posting)"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def migrated(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[AsyncEngine]:
    """A database migrated (and synced) by ``upgrade_to_head``, as on start."""
    postgres = request.param == "postgresql"
    engine = create_engine(await migrated_pg_url("reason_catalogue") if postgres else db_url)
    yield engine
    await engine.dispose()


def seed_copy(folder: Path) -> Path:
    folder.mkdir()
    for name in (REASONS_FILE, LABELS_FILE):
        shutil.copy(SEED_DIR / name, folder / name)
    return folder


def edit(path: Path, *, drop: tuple[str, ...] = (), replace: dict[str, str] | None = None,
         add: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Drop the lines starting with any of ``drop``, replace text, append lines."""
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith(drop)]
    text = "\n".join([*lines, *add]) + "\n"
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, "utf-8")


async def sync(engine: AsyncEngine, folder: Path = SEED_DIR) -> int:
    async with engine.begin() as conn:
        return await sync_reason_catalogue(conn, load_reason_catalogue(folder))


async def test_a_migrated_database_already_holds_the_committed_files(
    migrated: AsyncEngine,
) -> None:
    assert await sync(migrated) == 0


async def test_the_files_are_the_source_of_truth(migrated: AsyncEngine, tmp_path: Path) -> None:
    seed = seed_copy(tmp_path / "seed")
    edit(
        seed / REASONS_FILE,
        drop=("seasonal,",),
        add=("meter_fitted,restore,10,true,12",),
    )
    edit(
        seed / LABELS_FILE,
        drop=("seasonal,", "vacant,ru,"),
        replace={'absence,en,"Temporary absence (travel, posting)"': f'absence,en,"{ABSENCE_EN}"'},
        add=("meter_fitted,en,A meter has been fitted",),
    )

    # seasonal deactivated, meter_fitted added; a label changed, one added, one deleted
    assert await sync(migrated, seed) == 5
    assert await sync(migrated, seed) == 0

    transactions = SqlTransactionFactory(create_session_factory(migrated))
    async with transactions.read() as uow:
        active = {reason.code: reason for reason in await uow.reasons.active()}
    assert "seasonal" not in active
    assert list(active)[-1] == "meter_fitted"
    assert active["absence"].label("en") == ABSENCE_EN
    assert active["vacant"].label("ru") == "Əmlak boşdur və ya satışdadır"  # az stands in
    assert active["meter_fitted"].label("en") == "A meter has been fitted"
    assert active["meter_fitted"].label("ru") == "meter_fitted"  # no label at all: the code
    # each reason's deadline in hours; an empty cell: the global default
    assert active["meter_fitted"].deadline_hours == 12
    assert active["returned"].deadline_hours == 24
    assert active["suspend_other"].deadline_hours is None
    # an old application's reason: still there, with its labels, for the agents' /status
    every = {r.code: r for r in await SqlSupportQueries(transactions.session_factory).reasons()}
    assert every["seasonal"].label("ru") == "Сезонное пользование (дача)"

    # the committed files again: seasonal back, meter_fitted deactivated, both labels back
    assert await sync(migrated) == 4
    async with transactions.read() as uow:
        again = {reason.code: reason for reason in await uow.reasons.active()}
    assert "seasonal" in again and "meter_fitted" not in again


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (
            REASONS_FILE,
            {"code,kind,position,active,deadline_hours": "code,kind,active"},
            "the header must be",
        ),
        (REASONS_FILE, {"seasonal,suspend,4,true,48": "seasonal,suspend,4,true,2d"}, "deadline"),
        (REASONS_FILE, {"absence,suspend,1,true,72": "absence,suspend,1,true,0"}, "line 2: dead"),
        (REASONS_FILE, {"absence,suspend,1": "absence,pause,1"}, "line 2: kind must be"),
        (REASONS_FILE, {"vacant,suspend,3": "vacant,suspend,third"}, "line 4: position must"),
        (REASONS_FILE, {"seasonal,suspend,4,true": "seasonal,suspend,4,yes"}, "line 5: active"),
        (REASONS_FILE, {"vacant,": "absence,"}, "line 4: the reason absence is listed twice"),
        (REASONS_FILE, {"returned,restore,6,true,24": "returned,restore,6,24"}, "line 7: 5 fie"),
        (LABELS_FILE, {"renovation,az,": "repairs,az,"}, "line 3: no reason repairs"),
        (LABELS_FILE, {"renovation,ru,": "renovation,az,"}, "line 12: a second az label"),
        (LABELS_FILE, {"Ремонт в квартире": ""}, "line 12: label must have 1 to 200"),
    ],
)
def test_a_bad_file_is_refused_with_its_line(
    tmp_path: Path, name: str, change: dict[str, str], message: str
) -> None:
    seed = seed_copy(tmp_path / "seed")
    edit(seed / name, replace=change)

    with pytest.raises(CatalogueFileError, match=message) as refused:
        load_reason_catalogue(seed)
    assert str(refused.value).startswith(name)

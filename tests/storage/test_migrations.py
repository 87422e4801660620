"""Alembic migrations: from an empty database to head, back to base and up again (the
stairway), and no drift between the models and the migrations.

These tests are synchronous on purpose: ``storage/migrations/env.py`` calls
``asyncio.run``, which cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from storage.migrate import alembic_config, upgrade_to_head
from storage.models import Base

APP_TABLES = {table.name for table in Base.metadata.sorted_tables}
REASON_COUNT = 9


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def _revision(path: Path) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "migrations.db"


@pytest.fixture
def cfg(db_path: Path) -> Config:
    return alembic_config(f"sqlite+aiosqlite:///{db_path}")


def _revisions(cfg: Config) -> list[str]:
    """Every revision from the first to head."""
    script = ScriptDirectory.from_config(cfg)
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def test_upgrade_from_empty_to_head(tmp_path: Path, cfg: Config) -> None:
    db_path = tmp_path / "data" / "bot.db"  # a fresh install: not even the folder exists
    upgrade_to_head(f"sqlite+aiosqlite:///{db_path}")

    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert _revision(db_path) == head
    assert _tables(db_path) == APP_TABLES | {"alembic_version"}
    with sqlite3.connect(db_path) as conn:
        reasons = conn.execute("SELECT kind, count(*) FROM reasons GROUP BY kind").fetchall()
    assert sum(count for _, count in reasons) == REASON_COUNT
    assert {kind for kind, _ in reasons} == {"suspend", "restore"}


def test_upgrade_again_changes_nothing(db_path: Path, cfg: Config) -> None:
    url = f"sqlite+aiosqlite:///{db_path}"
    upgrade_to_head(url)
    upgrade_to_head(url)  # every start applies migrations; the second time is a no-op

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM reasons").fetchone() == (REASON_COUNT,)


def test_stairway_each_revision_up_down_up(db_path: Path, cfg: Config) -> None:
    revisions = _revisions(cfg)
    assert revisions, "no migrations found"
    previous = "base"
    for revision in revisions:
        command.upgrade(cfg, revision)
        command.downgrade(cfg, previous)
        command.upgrade(cfg, revision)
        assert _revision(db_path) == revision
        previous = revision


def test_downgrade_to_base_and_upgrade_again(db_path: Path, cfg: Config) -> None:
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    assert _tables(db_path) == {"alembic_version"}
    assert _revision(db_path) is None

    command.upgrade(cfg, "head")
    assert _tables(db_path) == APP_TABLES | {"alembic_version"}
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM reasons").fetchone() == (REASON_COUNT,)


def _reason_columns(path: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(path) as conn:
        query = "SELECT code, label_az, label_ru, label_en FROM reasons ORDER BY code"
        return conn.execute(query).fetchall()


def test_reason_labels_move_to_a_table_per_locale_and_back(db_path: Path, cfg: Config) -> None:
    command.upgrade(cfg, "0003_fsm_state")
    with sqlite3.connect(db_path) as conn:  # an empty label is no label
        conn.execute("UPDATE reasons SET label_en = '' WHERE code = 'vacant'")
    before = _reason_columns(db_path)

    command.upgrade(cfg, "0006_reason_labels")
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT reason_code, locale, label FROM reason_labels").fetchall()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(reasons)")}
    labels = {(code, locale): label for code, locale, label in rows}
    assert labels == {
        (code, locale): label
        for code, *by_locale in before
        for locale, label in zip(("az", "ru", "en"), by_locale, strict=True)
        if label
    }
    assert len(labels) == 3 * REASON_COUNT - 1
    assert columns == {"code", "kind", "position", "active"}

    command.downgrade(cfg, "0003_fsm_state")
    vacant_az = labels[("vacant", "az")]  # the missing label takes the az one
    assert _reason_columns(db_path) == [
        (code, az, ru, en or vacant_az) for code, az, ru, en in before
    ]


def test_models_match_migrations(db_path: Path, cfg: Config) -> None:
    command.upgrade(cfg, "head")
    # Raises AutogenerateDiffsDetected when a model and the migrations disagree.
    command.check(cfg)

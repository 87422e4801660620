"""Shared fixtures: a migrated SQLite database per test, settings, a fixed clock."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogues import compile_catalogues
from bot.config import Settings
from storage.database import create_engine
from storage.migrate import upgrade_to_head
from tests.ci_skips import pytest_configure, pytest_runtest_makereport
from tests.support import drop_isolated_pg_databases
from workflows.clock import FixedClock

__all__ = ["pytest_configure", "pytest_runtest_makereport"]  # hooks: a CI skip is a failure

STAFF_CHAT_ID = -1001000000001


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_isolated_pg_databases()  # only this run's: named from the URL and the process


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per session; each test gets a copy of the file."""
    compile_catalogues()
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "bot.db"
    shutil.copy(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        BOT_TOKEN="42:TEST",
        STAFF_CHAT_ID=STAFF_CHAT_ID,
        DATABASE_URL=db_url,
        MAIL_DIR=str(tmp_path / "mail"),
        PAY_URL_TEMPLATE="https://pay.example/az?code={subscriber_code}",
        # The tests drive one user far faster than a person types, in real time: the
        # throttle's window would make them depend on the machine's speed. Its own tests
        # (tests/bot/test_throttle.py) set it.
        THROTTLE_UPDATES=10_000,
        _env_file=None,
    )

"""``python bot.py import-subscribers``: exit status, summary, error list, progress bar."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.import_cli import run_import_cli, terminal_progress
from tests.storage import registry_files as registry


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await registry.fresh_engine(registry.sqlite_url(tmp_path))
    yield engine
    await engine.dispose()


async def test_cli_imports_and_summarises(
    sqlite_engine: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run_import_cli(registry.sqlite_url(tmp_path), registry.DEMO)

    out, err = capsys.readouterr()
    assert code == 0
    assert out == f"Imported {registry.DEMO_ROWS} rows: {registry.DEMO_ROWS} added, 0 updated.\n"
    assert err == ""


async def test_cli_lists_errors(
    sqlite_engine: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = registry.write_csv(
        tmp_path,
        registry.HEADER_LINE,
        "100001,,true,0.00,active,Bakı ş. 1",
        "100002,,true,-3,active,Bakı ş. 2",
        "100003,,true,0.00,active,",
    )

    code = await run_import_cli(registry.sqlite_url(tmp_path), path)

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "line 3: debt_azn '-3' must not be negative",
        "line 4: address is empty",
        "Nothing was imported (2 errors).",
    ]
    assert await registry.snapshot(sqlite_engine) == []


async def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_import_cli(registry.sqlite_url(tmp_path), tmp_path / "nope.csv")

    _out, err = capsys.readouterr()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "nope.csv" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_draws_on_a_tty() -> None:
    stream = _Terminal()
    progress = terminal_progress(stream)
    progress(5000, 0)
    progress(10000, 0)
    progress(5000, 10000)
    progress(10000, 10000)

    output = stream.getvalue()
    assert output.count("\r") == 4
    assert "Validating 10,000 rows" in output
    assert "50.0%" in output
    assert "100.0% 10,000/10,000 rows" in output
    assert "rows/s" in output
    assert output.endswith("\n")


def test_terminal_progress_is_silent_off_a_tty() -> None:
    stream = io.StringIO()
    progress = terminal_progress(stream)
    progress(5000, 0)
    progress(5000, 10000)
    assert stream.getvalue() == ""

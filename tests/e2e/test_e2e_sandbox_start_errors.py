"""What stops ``python bot.py`` (the sandbox) before it runs is one line, never a traceback.

A busy port used to end in a 22-line traceback (``OSError: Address already in use``) that never
named SANDBOX_PORT. Now a port held busy by this test, a SANDBOX_DATA_DIR that cannot be used
and a missing catalogue each stop the start with exit status 2 and one line on stderr that
names the setting (or the file) to change. The ports are checked in a real process; the
catalogues through the entry script's own function.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.e2e.harness import BOT_PY, START_TIMEOUT, bot_env, free_port
from tests.e2e.test_e2e_sandbox_isolation import entry_script


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port of 127.0.0.1 that somebody else listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def start_sandbox(tmp_path: Path, **settings: object) -> subprocess.CompletedProcess[str]:
    """``python bot.py`` without a token, to its end."""
    env = bot_env(**{"SANDBOX_DATA_DIR": tmp_path / "sandbox-data", **settings})
    return subprocess.run(
        [sys.executable, str(BOT_PY)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "", done.stdout
    return lines[0]


@pytest.mark.parametrize("setting", ["SANDBOX_PORT", "SANDBOX_API_PORT"])
def test_a_busy_port_is_one_line_naming_its_setting(
    tmp_path: Path, busy_port: int, setting: str
) -> None:
    ports = {"SANDBOX_PORT": free_port(), "SANDBOX_API_PORT": free_port(), setting: busy_port}

    line = one_line(start_sandbox(tmp_path, **ports))

    assert line.startswith(f"port {busy_port} is busy: start with {setting}="), line
    assert line.endswith(" python bot.py"), line
    suggested = int(line.split(f"{setting}=", 1)[1].split()[0])
    assert suggested not in ports.values()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", suggested))  # the suggestion was free


def test_a_data_dir_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")

    line = one_line(
        start_sandbox(
            tmp_path,
            SANDBOX_PORT=free_port(),
            SANDBOX_API_PORT=free_port(),
            SANDBOX_DATA_DIR=in_the_way,
        )
    )

    assert line.startswith(f"SANDBOX_DATA_DIR {in_the_way} cannot be used"), line
    assert "start with SANDBOX_DATA_DIR=" in line, line


def test_a_missing_catalogue_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = entry_script()
    monkeypatch.setattr(entry, "SEED_DIR", tmp_path / "seed")  # no reasons.csv there
    settings = Settings(_env_file=None, SANDBOX_DATA_DIR=str(tmp_path / "data"))

    assert entry.start_sandbox(settings, None) == 2

    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert "reason catalogue" in line and "reasons.csv" in line, line
    assert "git checkout -- storage/seed" in line, line


def test_a_missing_data_file_names_the_file(tmp_path: Path) -> None:
    entry = entry_script()
    missing = tmp_path / "botapi-compact.json"

    with pytest.raises(entry.StartRefused, match=r"botapi-compact\.json is missing"):
        entry.check_files(missing)

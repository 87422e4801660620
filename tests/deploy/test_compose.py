"""compose.yaml holds no secret: every password comes from `.env` (issue 17, item 5), a file
git ignores and `.env.example` documents."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")
# YAML lines without their comments (no "#" appears inside a value of this file).
LINES = [line.split("#", 1)[0] for line in COMPOSE.splitlines()]
SECRET_KEY = re.compile(r"^\s*([A-Z_]*(?:PASSWORD|SECRET|TOKEN|AUTH)[A-Z_]*):\s*(\S.*)$")
URL_PASSWORD = re.compile(r"://[^/\s:@]*:(\$\{[^}]*\}|[^@\s]+)@")
VARIABLE = re.compile(r"\$\{([A-Z_]+)")


def test_secret_values_are_substituted_from_the_environment() -> None:
    found = [m.groups() for line in LINES if (m := SECRET_KEY.match(line))]
    assert {name for name, _ in found} >= {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    for name, value in found:
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value.strip()), (name, value)


def test_passwords_inside_urls_are_substituted_too() -> None:
    passwords = [p for line in LINES for p in URL_PASSWORD.findall(line)]
    assert len(passwords) >= 2, "the bots' DATABASE_URL and REDIS_URL carry passwords"
    for password in passwords:
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", password), password


def test_every_variable_is_documented_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    used = set(VARIABLE.findall(COMPOSE))
    assert used and used <= documented, used - documented


@pytest.mark.parametrize(("path", "ignored"), [(".env", True), (".env.example", False)])
def test_the_secrets_file_is_never_committed(path: str, ignored: bool) -> None:
    done = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", path],
        cwd=ROOT,
        check=False,
    )
    if done.returncode == 128:
        pytest.skip("not a git checkout")
    assert (done.returncode == 0) is ignored

"""Secrets stay secret (issue 17, item 5): a real ``python bot.py`` whose database cannot be
reached fails, saying why, without printing the database password, the other URLs' passwords
or any token, whatever its log level; and the settings' repr and str show none of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from tests.e2e.harness import BOT_PY, START_TIMEOUT, bot_env, free_port

PASSWORD = "S3cr3t-pw-XYZ"
SECRETS = {
    "SMTP_PASSWORD": "smtp-S3cr3t-42",
    "BILLING_API_TOKEN": "billing-t0ken-42",
    "WEBHOOK_SECRET": "webhook-s3cret-42",
}


def secret_env(password: str) -> dict[str, str]:
    """Every secret setting, the database on a closed port of this machine."""
    closed = free_port()  # bound and released at once: nothing listens there
    return {
        "BOT_TOKEN": "4242:bot-t0ken-S3cr3t",
        "STAFF_CHAT_ID": "-1001000000001",
        "DATABASE_URL": f"postgresql+asyncpg://azersu:{password}@127.0.0.1:{closed}/azersu",
        "REDIS_URL": f"redis://:redis-{password}@127.0.0.1:{closed}/0",
        "BILLING_API_URL": f"http://billing:{password}@127.0.0.1:{closed}/api?key={password}",
        "SMTP_HOST": "127.0.0.1",
        "WEBHOOK_URL": "https://bot.example.az/telegram/webhook",
        **SECRETS,
    }


def leaked(text: str, env: dict[str, str], password: str) -> list[str]:
    decoded = password.replace("%25", "%")
    secrets = {password, decoded, env["BOT_TOKEN"], *SECRETS.values()}
    return sorted(secret for secret in secrets if secret in text)


# The second password is percent-encoded ("%25" is "%"): Alembic's configuration used to
# choke on it with an error quoting the whole URL.
@pytest.mark.parametrize("password", [PASSWORD, "S3cr3t%25pw-XYZ"])
def test_a_failed_database_connection_never_prints_a_secret(tmp_path: Path, password: str) -> None:
    env = secret_env(password)
    done = subprocess.run(
        [sys.executable, str(BOT_PY), "run"],
        env=bot_env(**env, LOG_LEVEL="DEBUG"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-4000:]
    # It failed where it should, and said so.
    assert "Connect call failed" in done.stderr, output[-4000:]
    assert leaked(output, env, password) == [], output[-4000:]


@pytest.mark.parametrize("password", [PASSWORD, "S3cr3t%25pw-XYZ"])
def test_the_settings_never_show_a_secret(password: str) -> None:
    env = secret_env(password)
    settings = Settings(_env_file=None, **env)
    for shown in (repr(settings), str(settings), str(settings.model_dump())):
        assert leaked(shown, env, password) == [], shown
    assert "postgresql+asyncpg://azersu:***@127.0.0.1:" in repr(settings)
    assert settings.database_url.get_secret_value() == env["DATABASE_URL"]

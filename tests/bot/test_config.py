"""Settings: a missing or malformed setting is named in one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_error

ROOT = Path(__file__).resolve().parents[2]


def error_for(**env: str) -> str:
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, **env)
    return describe_error(info.value)


def test_defaults_run_without_any_setting() -> None:
    s = Settings(_env_file=None)
    assert s.sandbox and s.default_locale == "az"
    assert s.subscriber_code_pattern == r"^\d{6,15}$"
    assert (s.mail_contact_phone, s.mail_contact_site) == ("195", "https://www.azersu.az")


def test_token_without_staff_chat_is_named() -> None:
    assert "STAFF_CHAT_ID" in error_for(BOT_TOKEN="1:x")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"STAFF_CHAT_ID": "abc"}, "STAFF_CHAT_ID"),
        ({"SUBSCRIBER_CODE_PATTERN": "([0-9"}, "SUBSCRIBER_CODE_PATTERN"),
        ({"PAY_URL_TEMPLATE": "https://pay.example/"}, "PAY_URL_TEMPLATE"),
        ({"DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE"),
        ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"),
        ({"STAFF_USER_IDS": "1,x"}, "STAFF_USER_IDS"),
        ({"WORK_ORDER_DEADLINE_HOURS": "-1"}, "WORK_ORDER_DEADLINE_HOURS"),
        ({"FSM_STORAGE": "disk"}, "FSM_STORAGE"),
        ({"FSM_STATE_TTL_DAYS": "0"}, "FSM_STATE_TTL_DAYS"),
        ({"METRICS_PORT": "70000"}, "METRICS_PORT"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"SEEN_UPDATES_TTL_HOURS": "-1"}, "SEEN_UPDATES_TTL_HOURS"),
        ({"THROTTLE_UPDATES": "0"}, "THROTTLE_UPDATES"),
        ({"THROTTLE_WINDOW_S": "0"}, "THROTTLE_WINDOW_S"),
        ({"PROBE_CODES_PER_DAY": "0"}, "PROBE_CODES_PER_DAY"),
        ({"PROBE_FINS_PER_DAY": "0"}, "PROBE_FINS_PER_DAY"),
        ({"PROBE_ACCOUNTS_PER_CODE": "0"}, "PROBE_ACCOUNTS_PER_CODE"),
        ({"MAIL_CONTACT_SITE": "javascript:alert(1)"}, "MAIL_CONTACT_SITE"),
    ],
)
def test_malformed_setting_is_named(env: dict[str, str], name: str) -> None:
    assert name in error_for(**env)


def test_lists_are_comma_separated() -> None:
    s = Settings(_env_file=None, STAFF_USER_IDS="1, 2,3", SUPPORT_USER_IDS="")
    assert s.staff_user_ids == [1, 2, 3]
    assert s.support_user_ids == []


def test_webhook_needs_a_secret() -> None:
    assert "WEBHOOK_SECRET" in error_for(WEBHOOK_URL="https://x.example/hook")


def test_metrics_are_on_their_own_loopback_listener_unless_port_0_with_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = Settings(_env_file=None)
    assert (default.metrics_host, default.metrics_port) == ("127.0.0.1", 9000)
    assert default.metrics_listener == "own"
    token = "t" * 16
    assert Settings(_env_file=None, METRICS_TOKEN=token).metrics_listener == "own"
    assert Settings(_env_file=None, METRICS_PORT="0").metrics_listener == "none"
    public = Settings(_env_file=None, METRICS_PORT="0", METRICS_TOKEN=token)
    assert public.metrics_listener == "public"
    # an empty value in the environment is no value: the default port, never the public one
    monkeypatch.setenv("METRICS_PORT", "")
    monkeypatch.setenv("METRICS_TOKEN", "")
    empty = Settings(_env_file=None)
    assert (empty.metrics_port, empty.metrics_token) == (9000, None)


def test_the_metrics_port_must_differ_from_the_webhook_s() -> None:
    hook = {"WEBHOOK_URL": "https://x.example/hook", "WEBHOOK_SECRET": "s"}
    assert "METRICS_PORT" in error_for(**hook, LISTEN_PORT="9000")
    # in polling mode LISTEN_PORT is not opened: any port will do
    assert Settings(_env_file=None, LISTEN_PORT="9000").metrics_port == 9000


def test_seen_updates_are_remembered_for_a_day_by_default() -> None:
    assert Settings(_env_file=None).seen_updates_ttl_hours == 24
    assert Settings(_env_file=None, SEEN_UPDATES_TTL_HOURS="0").seen_updates_ttl_hours == 0


def test_fsm_storage_defaults_to_redis_with_a_url_else_the_database() -> None:
    assert Settings(_env_file=None).fsm_backend == "database"
    assert Settings(_env_file=None, REDIS_URL="redis://r:6379/0").fsm_backend == "redis"
    memory = Settings(_env_file=None, REDIS_URL="redis://r:6379/0", FSM_STORAGE="memory")
    assert memory.fsm_backend == "memory"
    assert "REDIS_URL" in error_for(FSM_STORAGE="redis")


def test_the_process_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {"BOT_TOKEN": "1:x", "STAFF_CHAT_ID": "not-a-number", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "Setting STAFF_CHAT_ID is invalid: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_offer_hours_out_of_order_are_named() -> None:
    assert "OFFER_FROM_HOUR" in error_for(OFFER_FROM_HOUR="21", OFFER_UNTIL_HOUR="9")
    assert "OFFER_UNTIL_HOUR" in error_for(OFFER_UNTIL_HOUR="25")

"""``python bot.py`` with no BOT_TOKEN runs the sandbox (DESIGN.md, "Running it").

The process (started by the ``sandbox_app`` fixture with SANDBOX_PORT and SANDBOX_API_PORT set,
DATABASE_URL, REDIS_URL and MAIL_DIR naming production stores, and no BOT_TOKEN) prints one
line saying where it keeps its data and which settings it ignores, then one that says it runs
the sandbox and where; the page is served at that URL, the Bot API on SANDBOX_API_PORT, both
on 127.0.0.1 only; the demo subscribers are in the sandbox's own database, nothing is written
where DATABASE_URL and MAIL_DIR point; and the bot answers a subscriber. Stopping it with
SIGTERM ends it cleanly (checked by the fixture's teardown).
"""

from __future__ import annotations

import csv
import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.harness import (
    DEMO_CSV,
    FIN_PROMPT,
    Chat,
    SandboxApp,
    Telegram,
    has_text,
    read_subscribers,
    shown,
)
from tests.support import GENEROUS_S


def test_prints_where_its_data_is_then_the_page_url(sandbox_app: SandboxApp) -> None:
    lines = [line for line in sandbox_app.proc.stdout().splitlines() if line.strip()]
    assert len(lines) == 2, lines
    data, line = lines
    assert f"data in {sandbox_app.data_dir} " in data, data
    for ignored in ("DATABASE_URL", "REDIS_URL", "MAIL_DIR"):
        assert ignored in data, data
    assert "python bot.py sandbox --database URL" in data, data
    assert not re.findall(r"https?://", data), data
    assert re.search(r"\bsandbox\b", line, re.IGNORECASE), line
    assert "BOT_TOKEN" in line, line
    urls = re.findall(r"https?://[^\s)]+", line)
    assert urls == [sandbox_app.web_url], line


def test_nothing_is_written_where_database_url_and_mail_dir_point(
    sandbox_app: SandboxApp,
) -> None:
    assert sandbox_app.database.is_file()
    assert not sandbox_app.ignored_database.exists()
    assert not sandbox_app.ignored_mail_dir.exists()


def test_both_ports_listen_on_the_loopback_address_only(sandbox_app: SandboxApp) -> None:
    listening = listening_addresses()
    if listening is None:
        pytest.skip("no /proc/net/tcp on this system")
    for port in (sandbox_app.web_port, sandbox_app.api_port):
        assert listening.get(port) == {"127.0.0.1"}, (port, listening.get(port))


def test_serves_the_page_and_the_bot_api_on_the_configured_ports(sandbox_app: SandboxApp) -> None:
    with urllib.request.urlopen(sandbox_app.web_url + "/", timeout=GENEROUS_S) as resp:
        assert resp.status == 200
        assert resp.headers.get_content_type() == "text/html"
        page = resp.read().decode("utf-8")
    for pane in ("pane-user", "pane-staff", "pane-mail"):
        assert f'data-testid="{pane}"' in page
    with urllib.request.urlopen(
        sandbox_app.web_url + "/sandbox/config", timeout=GENEROUS_S
    ) as resp:
        config = json.loads(resp.read())
    assert config["api_url"] == f"http://127.0.0.1:{sandbox_app.api_port}"
    assert config["web_url"] == sandbox_app.web_url
    assert config["mail_dir"] == str(sandbox_app.mail_dir)


def test_demo_subscribers_are_seeded(sandbox_app: SandboxApp) -> None:
    """The registry as the process left it at start (before the tests changed states)."""
    with DEMO_CSV.open(encoding="utf-8") as f:
        demo = {row["subscriber_code"]: row for row in csv.DictReader(f)}
    rows = sandbox_app.subscribers_at_start
    assert set(demo) <= set(rows)
    for code, row in demo.items():
        expected = (
            row["meterless"] == "true",
            float(row["debt_azn"]),
            row["service_state"],
            row["owner_fin"] or None,
        )
        assert rows[code] == expected, code
    # the manual's cases are all there
    assert rows["100003"][1] == 12.5
    assert rows["100004"][0] is False
    assert rows["100002"][2] == "suspended"
    assert rows["100005"][3] == "5ABC12D"
    # and still are, in the database the bot uses
    assert read_subscribers(sandbox_app.database).keys() >= demo.keys()


async def test_the_bot_answers_on_the_page_s_sandbox(tg: Telegram) -> None:
    chat = Chat(tg, 700100, locale="en")
    greeting = await chat.send("/start", has_text(shown(FIN_PROMPT, "en")))
    assert greeting["from"]["is_bot"] is True


def listening_addresses() -> dict[int, set[str]] | None:
    """port -> the IPv4/IPv6 addresses listening on it, from /proc/net/tcp{,6} (Linux)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    listening: dict[int, set[str]] = {}
    for table in tables:
        if not table.exists():
            continue
        for row in table.read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            if state != "0A":  # TCP_LISTEN
                continue
            address, port = local.split(":")
            listening.setdefault(int(port, 16), set()).add(_address(address))
    return listening


def _address(hex_address: str) -> str:
    if len(hex_address) == 8:  # IPv4, little-endian
        return ".".join(str(int(hex_address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return "::" if set(hex_address) == {"0"} else f"ipv6:{hex_address}"

"""``python bot.py`` with no BOT_TOKEN runs the sandbox (DESIGN.md, "Running it").

The process (started by the ``sandbox_app`` fixture with SANDBOX_PORT, SANDBOX_API_PORT,
DATABASE_URL and MAIL_DIR set and no BOT_TOKEN) prints one line that says it runs the
sandbox and where; the page is served at that URL, the Bot API on SANDBOX_API_PORT; the demo
subscribers are in the database; and the bot answers a subscriber. Stopping it with SIGTERM
ends it cleanly (checked by the fixture's teardown).
"""

from __future__ import annotations

import csv
import json
import re
import urllib.request

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


def test_prints_one_line_with_the_page_url(sandbox_app: SandboxApp) -> None:
    lines = [line for line in sandbox_app.proc.stdout().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    [line] = lines
    assert re.search(r"\bsandbox\b", line, re.IGNORECASE), line
    assert "BOT_TOKEN" in line, line
    urls = re.findall(r"https?://[^\s)]+", line)
    assert urls == [sandbox_app.web_url], line


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

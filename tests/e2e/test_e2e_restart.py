"""A restart mid-form on the default settings (issue 15): the form carries on at the same step
with what was typed.

A real ``python bot.py run`` polls a sandbox that runs in this process (so Telegram, the chat
and its old buttons outlive the bot), on a SQLite file and with none of the bot's settings but
the token, the Bot API URL and the staff chat: no REDIS_URL, no FSM_STORAGE. A subscriber
fills the form; before step 3 (after the subscriber code, a button to press on a window the
previous process showed) and before step 5 (after the phone, a text to type) the bot process
is killed with SIGKILL and started again. The kill waits until the step is in the database
(aiogram-dialog saves the dialog after it has shown the window) and Telegram has the update
confirmed, so the crash falls between two steps, never inside one.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.database import create_engine
from storage.subscribers_import import import_subscribers
from tests.e2e.harness import (
    DEMO_CSV,
    STEP,
    Chat,
    RestartingBot,
    Telegram,
    apoll_until,
    polling_bot,
    register,
    shown,
)

USER = 700901
CODE = "100001"  # meterless, no debt, active
RESTART_BEFORE = ("reason", "email")  # steps 3 and 5 of the form


class FormBot(RestartingBot):
    """A restarting bot whose kills fall between two steps of a subscriber's form."""

    def saved_window(self, user_id: int) -> int | None:
        """The message id of the window in the user's dialog stack as stored (None: none)."""
        key = f"fsm:{user_id}:{user_id}:aiogd:stack:"
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            row = db.execute("SELECT data FROM fsm_state WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]).get("last_message_id") if row and row[0] else None

    async def crash_and_restart(self, user_id: int, window: dict[str, Any]) -> None:
        async def between_steps() -> bool:
            stored = self.saved_window(user_id) == window["message_id"]
            return stored and not self.server.world.updates

        await apoll_until(
            between_steps, timeout=30, what="the step in the database", procs=[self.proc]
        )
        await self.kill()
        await self.start()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[FormBot]:
    async with polling_bot(tmp_path, FormBot) as bot:
        engine = create_engine(bot.env["DATABASE_URL"])
        try:
            await import_subscribers(engine, DEMO_CSV)
        finally:
            await engine.dispose()
        await bot.start()
        yield bot


def application(database: Path, number: int) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM applications WHERE number = ?", (number,)).fetchone()
    assert row is not None, f"no application {number}"
    return dict(row)


async def test_a_restart_mid_form_carries_on_at_the_same_step(bot: FormBot) -> None:
    chat = Chat(Telegram(bot.server, diagnose=bot.logs), USER, locale="en")

    async def crash_before(step: str) -> None:
        if step in RESTART_BEFORE:
            await bot.crash_and_restart(USER, chat.seen[-1])

    number = await register(chat, code=CODE, before=crash_before)

    assert len(bot.procs) == 1 + len(RESTART_BEFORE)
    summary = next(
        m for m in reversed(chat.seen) if shown(STEP, "en", step=7, total=7) in m["text"]
    )
    assert CODE in summary["text"]  # typed into the first process
    saved = application(bot.database, number)
    assert saved["subscriber_code"] == CODE
    assert saved["phone"]  # shared with the second process
    assert saved["email"] == f"user{USER}@example.com"  # typed into the third
    assert saved["telegram_user_id"] == USER
    for proc in bot.procs:
        assert "Traceback" not in proc.stderr(), proc.tail()

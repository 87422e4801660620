"""Logs carry ids, never the FIN, the phone or the e-mail above DEBUG (DESIGN.md, "Data"),
on a registration and on a crash in the middle of one."""

from __future__ import annotations

import logging
import socket
import sqlite3
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event, text

from bot.errors import TRY_AGAIN
from bot.webhook import WEBHOOK_PATH, WebhookServer
from tests.dialogs.helpers import FIN, World, applications, fill_to, press_update, register, tr
from tests.support import assert_no_personal_data, logged_above_debug

PHONE = "050 123 45 67"
EMAIL = "secret.person@example.com"
SECRETS = (FIN, "501234567", "secret.person", EMAIL)
SECRET_TOKEN = "s3cret-token"


async def test_a_whole_registration_logs_no_personal_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = world.subscriber(language_code="en")
    number = await register(user, phone=PHONE, email=EMAIL)
    assert number == 1
    assert_no_personal_data(caplog.records, *SECRETS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_crash_while_registering_logs_no_personal_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The database fails under "Continue", in webhook and in polling mode: the storage
    guard logs each update's id and the error's type, the subscriber is asked to try again,
    and no log line carries what was typed (the engines hide statement parameters too)."""
    user = world.subscriber(language_code="en")
    summary = await fill_to(user, "summary", phone=PHONE, email=EMAIL)
    assert world.engine is not None
    async with world.engine.begin() as conn:  # the table the registration writes is gone
        await conn.execute(text("ALTER TABLE applications RENAME TO applications_lost"))

    by_webhook, by_polling = (press_update(user, "confirm", summary) for _ in range(2))
    caplog.set_level(logging.INFO)

    # Webhook mode: a real request to the bot's webhook server.
    server = WebhookServer(world.dp, world.bot, SECRET_TOKEN)
    port = _free_port()
    await server.start("127.0.0.1", port)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                data=by_webhook.model_dump_json(exclude_none=True),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN,
                    "Content-Type": "application/json",
                },
            ) as response,
        ):
            assert response.status == 200
    finally:
        await server.stop()  # waits for the update in flight
    # Polling mode: aiogram's loop hands each update to the same place.
    assert await world.dp._process_update(world.bot, by_polling, call_answer=False)

    logged = logged_above_debug(caplog.records)
    for update in (by_webhook, by_polling):
        assert f"ERROR bot.errors: update {update.update_id}: storage error OperationalError" in (
            logged
        )
    assert world.engine.sync_engine.hide_parameters
    assert_no_personal_data(caplog.records, *SECRETS)


DESCRIPTION = "Going abroad; the key is under the mat"


async def test_a_database_error_in_a_handler_logs_no_row_values(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The insert under "Continue" fails as PostgreSQL would fail it, its error quoting the
    row (DETAIL) while SQLAlchemy holds the statement's parameters: the subscriber is told
    to try again, and no log line above DEBUG holds the FIN, the phone, the e-mail or what
    was typed."""
    user = world.subscriber(language_code="en")
    summary = await fill_to(user, "summary", phone=PHONE, email=EMAIL, description=DESCRIPTION)
    assert world.engine is not None
    row = f"Failing row contains (1, {FIN}, +994501234567, {EMAIL}, {DESCRIPTION})."
    failed: list[BaseException] = []

    def fail_the_insert(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO APPLICATIONS"):
            error = sqlite3.IntegrityError(f"null value in column violates\nDETAIL:  {row}")
            failed.append(error)
            raise error

    event.listen(world.engine.sync_engine, "before_cursor_execute", fail_the_insert)
    caplog.set_level(logging.INFO)
    try:
        update = press_update(user, "confirm", summary)
        await world.dp.feed_update(world.bot, update)
    finally:
        event.remove(world.engine.sync_engine, "before_cursor_execute", fail_the_insert)

    assert failed, "the insert was not reached"
    [answer] = world.session.of("AnswerCallbackQuery")
    assert answer.show_alert and answer.text == tr(TRY_AGAIN, "en")
    logged = "\n".join(logged_above_debug(caplog.records))
    assert f"update {update.update_id}: storage error IntegrityError" in logged
    assert_no_personal_data(caplog.records, *SECRETS, DESCRIPTION, "key is under the mat")
    assert await applications(world.engine) == []

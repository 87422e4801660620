"""Scenario: at start the bot registers its command menus with setMyCommands — subscribers in
private chats, the staff group, the support chat and each agent's private chat — in az, ru and
en, plus the default locale's list without a language code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from bot.app import build_i18n, command_menus
from bot.config import Settings
from bot.support import register_commands
from tests.support import make_bot
from tests.support_agents.agents import (
    AGENT_ID,
    STAFF_CHAT_ID,
    SUPPORT_CHAT_ID,
    AgentSession,
    write_catalogues,
)

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
SUBSCRIBER = ["start", "menu", "language", "mydata", "forget", "logout", "privacy"]
AGENT = ["status", "find", "open", "stats"]
SECOND_AGENT = 5003


def menus(session: object) -> dict[tuple[str, int | None, str | None], list[str]]:
    result = {}
    for request in session.of("SetMyCommands"):  # type: ignore[attr-defined]
        scope = request.scope
        key = (scope.type, getattr(scope, "chat_id", None), request.language_code)
        assert key not in result, f"{key} registered twice"
        result[key] = [c.command for c in request.commands]
    return result


@pytest.fixture
def menu_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "support_user_ids": [AGENT_ID, SECOND_AGENT, AGENT_ID],
            "support_chat_id": SUPPORT_CHAT_ID,
        }
    )


async def test_every_scope_gets_its_menu_in_every_language(menu_settings: Settings) -> None:
    bot, session = make_bot()

    await register_commands(bot, command_menus(menu_settings), build_i18n(menu_settings))

    found = menus(session)
    languages = [None, "az", "ru", "en"]
    expected = {}
    for language in languages:
        expected[("all_private_chats", None, language)] = SUBSCRIBER
        expected[("chat", STAFF_CHAT_ID, language)] = ["open"]
        expected[("chat", SUPPORT_CHAT_ID, language)] = AGENT
        expected[("chat", AGENT_ID, language)] = AGENT + SUBSCRIBER
        expected[("chat", SECOND_AGENT, language)] = AGENT + SUBSCRIBER
    assert found == expected
    for request in session.of("SetMyCommands"):
        for command in request.commands:
            assert COMMAND_RE.fullmatch(command.command)
            assert 1 <= len(command.description) <= 256


async def test_descriptions_are_translated_per_language(
    menu_settings: Settings, tmp_path: Path
) -> None:
    locales = write_catalogues(
        tmp_path / "locales",
        {
            "az": {"Change the language": "Dili dəyiş"},
            "ru": {"Change the language": "Сменить язык"},
        },
    )
    i18n = I18n(path=locales, default_locale="az", domain="messages")
    bot, session = make_bot()

    await register_commands(bot, command_menus(menu_settings), i18n)

    descriptions = {
        request.language_code: next(
            c.description for c in request.commands if c.command == "language"
        )
        for request in session.of("SetMyCommands")
        if request.scope.type == "all_private_chats"
    }
    assert descriptions == {
        None: "Dili dəyiş",
        "az": "Dili dəyiş",
        "ru": "Сменить язык",
        "en": "Change the language",
    }


async def test_without_a_support_chat_or_agents_only_subscribers_and_staff(
    settings: Settings,
) -> None:
    bot, session = make_bot()

    await register_commands(bot, command_menus(settings), build_i18n(settings))

    scopes = {(scope, chat) for scope, chat, _ in menus(session)}
    assert scopes == {("all_private_chats", None), ("chat", STAFF_CHAT_ID)}


async def test_a_chat_telegram_does_not_know_is_skipped(menu_settings: Settings) -> None:
    """An agent who never opened the bot: Telegram answers "chat not found" for that scope;
    the other scopes are still registered."""
    session = AgentSession()
    session.unknown_chats.add(AGENT_ID)
    bot, _ = make_bot()
    bot.session = session

    await register_commands(bot, command_menus(menu_settings), build_i18n(menu_settings))

    attempts = [
        r.language_code
        for r in session.of("SetMyCommands")
        if getattr(r.scope, "chat_id", None) == AGENT_ID
    ]
    assert attempts == [None]  # the first refusal skips the other languages of that scope
    assert ("chat", SECOND_AGENT, "en") in menus_without(session, AGENT_ID)


def menus_without(session: AgentSession, chat_id: int) -> set[tuple[str, int | None, str | None]]:
    return {
        (r.scope.type, getattr(r.scope, "chat_id", None), r.language_code)
        for r in session.of("SetMyCommands")
        if getattr(r.scope, "chat_id", None) != chat_id
    }

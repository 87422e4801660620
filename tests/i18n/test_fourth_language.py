"""A fourth language, added the way the README's "Catalogues" says, and the form walked in it.

In a copy of the catalogues: Turkish's ``messages.po`` (``pybabel init``, then a handful of
strings translated; the rest fall back to the English msgid), one line in ``LANGUAGES`` and
Turkish reason labels in a copy of the catalogue data, synced by the start's own
``upgrade_to_head``. A subscriber whose Telegram speaks Turkish then walks the whole form
through the real dispatcher to the application number; the staff card, the agents' /status
and the e-mail each show the reason in their reader's language.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram.types import Message, Update
from aiogram.utils.i18n import I18n
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import command_menus
from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings
from bot.support import register_commands
from dialogs.wording import LANGUAGES, LOCALES, esc
from storage.catalogue import LABELS_FILE, REASONS_FILE, SEED_DIR
from storage.migrate import upgrade_to_head
from tests.conftest import STAFF_CHAT_ID
from tests.dialogs.helpers import (
    FIN,
    FIN_PROMPT,
    MENU_PROMPT,
    REGISTERED,
    STATES,
    World,
    applications,
    current,
    make_world,
    press,
    state_of,
    widget_ids,
)
from tests.outbox.harness import RecordingMailer, make_harness
from tests.support import make_bot, seed_subscribers, subscriber_row
from workflows.clock import FixedClock
from workflows.models import StaffMember

TURKISH = "🇹🇷 Türkçe"
TRANSLATED = {
    FIN_PROMPT: "Lütfen kimlik kartınızın FIN kodunu yazın (7 karakter, örneğin 5ABC12D).",
    MENU_PROMPT: "Ne yapmak istediğinizi seçin:",
    "Create a new application": "Yeni başvuru oluştur",
    "Check the application's status": "Başvurunun durumunu kontrol et",
    "Choose the language:": "Dili seçin:",
    "Reason: {reason}": "Neden: {reason}",
    "Change the language": "Dili değiştir",
    REGISTERED: "Başvurunuz kayda alındı. Hizmetimizi kullandığınız için teşekkür ederiz. "
    "Başvuru numaranız: {number}",
}
REASON_LABELS = {
    "absence": "Geçici yokluk (seyahat, görev)",
    "renovation": "Konutta tadilat",
    "vacant": "Mülk boş veya satılık",
    "seasonal": "Mevsimlik kullanım (yazlık)",
    "suspend_other": "Başka bir neden",
    "returned": "Geri döndüm",
    "renovation_done": "Tadilat bitti",
    "new_occupant": "Mülke yeni biri taşındı",
    "restore_other": "Başka bir neden",
}
ABSENCE = {"tr": REASON_LABELS["absence"], "ru": "Временное отсутствие (поездка, командировка)"}
ABSENCE["en"] = "Temporary absence (travel, posting)"
AGENT_EN, AGENT_TR = 5001, 5003
_update_ids = itertools.count(1)


def add_catalogue(locales: Path, locale: str, translated: dict[str, str]) -> None:
    """Step 1: ``pybabel init`` the language from the template, translate, compile."""
    CommandLineInterface().run(
        ["pybabel", "-q", "init", "-i", str(locales / "messages.pot"), "-d", str(locales),
         "-D", "messages", "-l", locale]
    )  # fmt: skip
    po = locales / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    for msgid, msgstr in translated.items():
        catalog[msgid].string = msgstr
    with po.open("wb") as f:
        write_po(f, catalog)
    compile_catalogues(locales)


def add_reason_labels(seed: Path, locale: str, labels: dict[str, str]) -> None:
    """Step 3: the language's rows at the end of the labels file."""
    shutil.copy(SEED_DIR / REASONS_FILE, seed / REASONS_FILE)
    shutil.copy(SEED_DIR / LABELS_FILE, seed / LABELS_FILE)
    with (seed / LABELS_FILE).open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(
            (code, locale, label) for code, label in labels.items()
        )


@pytest.fixture
def turkish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> I18n:
    """Turkish added in the three steps; the i18n of a process started afterwards."""
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo"))
    add_catalogue(locales, "tr", TRANSLATED)
    monkeypatch.setitem(LANGUAGES, "tr", TURKISH)  # step 2 (the line in dialogs/wording.py)
    seed = tmp_path / "seed"
    seed.mkdir()
    add_reason_labels(seed, "tr", REASON_LABELS)
    return I18n(path=locales, default_locale="az", domain="messages")


async def answer(world: World, user_id: int, language_code: str, text: str) -> str:
    """What the bot sends back to a plain message (an agent's command) in private."""
    user = world.subscriber(user_id, language_code=language_code)
    sent = len(world.session.of("SendMessage"))
    message = Message(
        message_id=next(_update_ids),
        date=datetime.now(UTC),
        chat=user.chat,
        from_user=user.user,
        text=text,
    )
    await world.dp.feed_update(world.bot, Update(update_id=next(_update_ids), message=message))
    return "\n".join(m.text for m in world.session.of("SendMessage")[sent:])


async def test_a_fourth_language_walks_the_form_and_each_reader_gets_their_own_label(
    turkish: I18n,
    settings: Settings,
    db_url: str,
    engine: AsyncEngine,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    await asyncio.to_thread(upgrade_to_head, db_url, seed=tmp_path / "seed")  # as on start
    await seed_subscribers(engine, [subscriber_row("100001", owner_fin=FIN)])
    settings = settings.model_copy(
        update={"staff_locale": "ru", "support_user_ids": [AGENT_EN, AGENT_TR]}
    )
    world = make_world(settings, engine, clock, i18n=turkish)
    user = world.subscriber(100001, language_code="tr")

    first = await user.send("/start")
    assert TRANSLATED[FIN_PROMPT] in first.text
    switch = await press(user, "to_lang")
    assert TRANSLATED["Choose the language:"] in switch.text
    assert "lang:tr" in widget_ids(switch)
    offered = [b.text for row in switch.reply_markup.inline_keyboard for b in row]
    assert f"✓ {TURKISH}" in offered  # the language Telegram speaks, ticked
    after = await press(user, "lang:tr")  # and chosen: stored as the user's language
    assert TRANSLATED[FIN_PROMPT] in after.text
    menu = await user.send(FIN)
    assert TRANSLATED[MENU_PROMPT] in menu.text
    offered = [b.text for row in menu.reply_markup.inline_keyboard for b in row]
    assert TRANSLATED["Create a new application"] in offered
    assert TRANSLATED["Check the application's status"] in offered

    await press(user, "new_app")
    reason = await user.send("100001")
    assert await state_of(user) == STATES["reason"]
    offered = [b.text for row in reason.reply_markup.inline_keyboard for b in row]
    assert ABSENCE["tr"] in offered
    await press(user, "reason:absence")
    await user.send_contact("+994501234567")
    await user.send("user@example.com")
    await user.send("Going abroad.")
    summary = await press(user, "skip_notes")
    assert TRANSLATED["Reason: {reason}"].format(reason=esc(ABSENCE["tr"])) in summary.text
    done = await press(user, "confirm")

    state, data = await current(user)
    assert (state, data["number"]) == (STATES["registered"], 1)
    assert done.text == TRANSLATED[REGISTERED].format(number=1)
    [row] = await applications(engine)
    assert (row.locale, row.reason_code) == ("tr", "absence")

    # The agents' /status: the reason in each agent's language, the subscriber's by name.
    in_english = await answer(world, AGENT_EN, "en", "/status 1")
    assert ABSENCE["en"] in in_english and TURKISH in in_english
    assert ABSENCE["tr"] not in in_english
    assert ABSENCE["tr"] in await answer(world, AGENT_TR, "tr", "/status 1")

    # The staff card in STAFF_LOCALE (ru); the e-mail in the application's language (tr).
    mailer = RecordingMailer()
    h = await make_harness(
        settings, engine, tmp_path, mailer=mailer, i18n=turkish, staff_locale="ru"
    )
    await h.deliver()
    card = h.card_text(*await h.card_ref(1))
    reason_ru = turkish.gettext("Reason: {reason}", locale="ru")
    assert reason_ru != "Reason: {reason}"
    assert reason_ru.format(reason=esc(ABSENCE["ru"])) in card
    assert ABSENCE["tr"] not in card
    staff = StaffMember(user_id=501, name="Elvin")
    await h.services.work_orders.take(1, staff)
    await h.services.work_orders.complete(1, staff, "Vana kapatıldı.")
    await h.deliver()
    [mail] = mailer.sent
    assert mail.to == "user@example.com"
    # The completion e-mail names no reason (it may reach a wrong address), only the result.
    assert "Vana kapatıldı." in mail.text
    assert ABSENCE["tr"] not in mail.text


def configured(**values: str) -> Settings:
    return Settings(BOT_TOKEN="42:TEST", STAFF_CHAT_ID=STAFF_CHAT_ID, _env_file=None, **values)


async def test_the_settings_and_the_command_menus_take_the_listed_language(
    turkish: I18n, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "tr" in LOCALES  # a view of LANGUAGES: the one line is enough
    chosen = configured(DEFAULT_LOCALE="tr", STAFF_LOCALE="tr")
    assert (chosen.default_locale, chosen.staff_locale) == ("tr", "tr")
    bot, session = make_bot()

    await register_commands(bot, command_menus(settings), turkish)

    described = {
        request.language_code: {c.command: c.description for c in request.commands}
        for request in session.of("SetMyCommands")
        if request.scope.type == "all_private_chats"
    }
    assert set(described) == {None, "az", "ru", "en", "tr"}
    assert described["tr"]["language"] == TRANSLATED["Change the language"]

    monkeypatch.delitem(LANGUAGES, "tr")
    with pytest.raises(ValidationError, match="STAFF_LOCALE"):
        configured(STAFF_LOCALE="tr")

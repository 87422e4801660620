"""The support chat's warning about a probed subscriber code (issue 16, item 4): owed once
per code and Baku day as a ``probe_warning`` outbox row, sent in the staff locale with the
code set apart as code and the number of accounts."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings
from bot.outbox.notices import PROBE_WARNING
from tests.outbox.harness import make_harness
from workflows.outbox.records import OutboxKind, OutboxStatus
from workflows.probing import OutboxProbeAlarm

SUPPORT_CHAT = -1002000000002


async def test_the_warning_reaches_the_support_chat_once_in_the_staff_locale(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    compile_catalogues()
    i18n = I18n(path=LOCALES_DIR, default_locale="az", domain="messages")
    h = await make_harness(settings, engine, tmp_path, i18n=i18n, staff_locale="az")
    h.tg.group(SUPPORT_CHAT)
    alarm = OutboxProbeAlarm(h.services.transactions, h.clock, SUPPORT_CHAT)
    await alarm.code_probed("1234567<b>", 4, 504)
    await alarm.code_probed("1234567<b>", 5, 505)  # the same code the same day: no second row
    await h.deliver()

    (row,) = [r for r in await h.rows() if r.kind == OutboxKind.PROBE_WARNING]
    assert row.status == OutboxStatus.SENT
    (sent,) = h.tg.messages(SUPPORT_CHAT)
    expected = i18n.gettext(PROBE_WARNING, locale="az").format(
        code="<code>1234567&lt;b&gt;</code>", accounts=4, account="<code>504</code>"
    )
    assert sent["html"] == expected
    assert expected != PROBE_WARNING  # translated

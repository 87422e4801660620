"""The outbox's ``egov_verified`` row: the account is told, in its language, that its FIN is
confirmed through the e-gov login (the row holds the locale only, never the FIN)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from tests.bot.egov_harness import egov_i18n
from tests.outbox.harness import make_harness
from workflows.egov_login import verified_message


@pytest.mark.parametrize(
    ("locale", "words"),
    [("ru", "Ваш ФИН подтверждён"), (None, "FİN-iniz"), ("en", "Your FIN is confirmed")],
)
async def test_the_account_is_told_its_fin_is_confirmed_in_its_language(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, locale: str | None, words: str
) -> None:
    h = await make_harness(settings, engine, tmp_path, i18n=egov_i18n())
    async with h.services.transactions() as uow:
        await uow.outbox.enqueue(verified_message(3001, "a-state", locale), h.clock.now())
        await uow.outbox.enqueue(verified_message(3001, "a-state", locale), h.clock.now())
        await uow.commit()

    await h.deliver()

    (sent,) = h.tg.sent(3001)
    assert words in sent.text
    assert [row.status for row in await h.rows()] == ["sent"]

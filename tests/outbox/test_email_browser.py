"""The completion e-mail's HTML as Chromium renders it, light and dark, on a phone's width.

It asks for nothing over the network, fits 375 pixels without a sideways scroll, and in a
dark mail client gets the dark palette. The screenshots go to
``test-artifacts/email-<lang>.png`` (and ``-dark``) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from tests.outbox.test_email import application, render
from tests.sandbox.browser import chromium
from workflows.models import EventKind

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 375, "height": 740}


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["az", "ru", "en"])
async def test_email_renders_on_a_phone_light_and_dark_fetching_nothing(
    catalogues: I18n, locale: str, scheme: str
) -> None:
    mail = render(catalogues, application(locale), EventKind.DONE)
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, color_scheme=scheme)
        page.on("request", lambda request: requests.append(request.url))
        await page.set_content(mail.html, wait_until="load")

        assert requests == []  # no image, font or stylesheet fetched
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px wider than the phone"
        card = await page.evaluate(
            "getComputedStyle(document.querySelector('.card')).backgroundColor"
        )
        assert card == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(23, 36, 44)")
        assert "42" in await page.inner_text("body")

        suffix = "" if scheme == "light" else "-dark"
        await page.screenshot(path=str(ARTIFACTS / f"email-{locale}{suffix}.png"), full_page=True)

"""The subscriber's Telegram notices (issue 18): a notice that closes the application ends
with the next step (how to get the service back after a suspension, whom to call after a
restoration, how to apply again after a rejection), the crew's note is labelled as theirs,
and the phone to call is the configured one (MAIL_CONTACT_PHONE, as in the e-mail)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.outbox.notices import render_notice
from dialogs.wording import NBSP, translator
from tests.outbox.harness import STAFF_A, make_harness
from tests.support import draft
from workflows.models import Application, ApplicationKind, ApplicationStatus, EventKind

AT = datetime(2026, 12, 7, 1, 16, tzinfo=UTC)
PHONE = "+994 12 555 55 55"
CREATE = {
    "az": "Yeni müraciət yarat",
    "ru": "Создать новое заявление",
    "en": "Create a new application",
}
LOCALES = tuple(CREATE)


def application(
    locale: str, kind: ApplicationKind, note: str | None = "Kran bağlandı."
) -> Application:
    app = Application.register(draft("100001", locale=locale), kind=kind, address="Bakı", at=AT)
    return dataclasses.replace(
        app, number=42, status=ApplicationStatus.DONE, closed_at=AT, result_note=note
    )


def last_line(text: str) -> str:
    return text.rstrip().rsplit("\n", 1)[-1]


@pytest.mark.parametrize("locale", LOCALES)
def test_after_a_suspension_the_notice_says_how_to_get_the_service_back(
    catalogues: I18n, locale: str
) -> None:
    _ = translator(catalogues, locale)
    text = render_notice(application(locale, ApplicationKind.SUSPEND), EventKind.DONE, _)
    assert last_line(text) == _(
        "When you need the service again, open /menu, choose “Create a new application” "
        "and apply for its restoration."
    )
    assert "/menu" in last_line(text) and CREATE[locale] in last_line(text)
    assert f"№{NBSP}42" in text or "42 nömrəli" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_suspension_with_an_until_date_announces_the_restoration_offer(
    catalogues: I18n, locale: str
) -> None:
    """Issue 19, item 6: the done notice of a suspension "until 12 March 2027" says the
    filled-in restoration will be offered three days before, and how to restore earlier."""
    _ = translator(catalogues, locale)
    app = dataclasses.replace(
        application(locale, ApplicationKind.SUSPEND), suspend_until="2027-03-12"
    )
    text = render_notice(app, EventKind.DONE, _)
    day = {"az": "12 mart 2027", "ru": "12 марта 2027", "en": "12 March 2027"}[locale]
    assert day in last_line(text)
    assert "/menu" in last_line(text) and CREATE[locale] in last_line(text)


@pytest.mark.parametrize("locale", LOCALES)
def test_after_a_restoration_the_notice_says_whom_to_call(catalogues: I18n, locale: str) -> None:
    _ = translator(catalogues, locale)
    app = application(locale, ApplicationKind.RESTORE)
    text = render_notice(app, EventKind.DONE, _, phone=PHONE)
    assert PHONE in last_line(text)


@pytest.mark.parametrize("locale", LOCALES)
def test_after_a_rejection_the_notice_says_how_to_apply_again(
    catalogues: I18n, locale: str
) -> None:
    _ = translator(catalogues, locale)
    app = application(locale, ApplicationKind.SUSPEND, note="Ünvan səhvdir.")
    text = render_notice(app, EventKind.REJECTED, _, phone=PHONE)
    assert CREATE[locale] in last_line(text) and PHONE in last_line(text)
    assert _("Reason for rejection, from our staff:") in text
    assert "Ünvan səhvdir." in text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_crew_note_is_labelled_as_theirs(catalogues: I18n, locale: str) -> None:
    _ = translator(catalogues, locale)
    text = render_notice(application(locale, ApplicationKind.SUSPEND), EventKind.DONE, _)
    assert f"{_('Note from the crew:')}\n<blockquote>Kran bağlandı.</blockquote>" in text
    assert _("Result:") not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_taken_notice_says_what_comes_next(catalogues: I18n, locale: str) -> None:
    _ = translator(catalogues, locale)
    app = dataclasses.replace(
        application(locale, ApplicationKind.SUSPEND, note=None), status=ApplicationStatus.TAKEN
    )
    text = render_notice(app, EventKind.TAKEN, _)
    assert last_line(text) == _("We will write to you here when the work is done.")
    assert "taken into work" not in text


async def test_the_rejection_notice_gives_the_configured_phone(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, catalogues: I18n
) -> None:
    h = await make_harness(settings, engine, tmp_path, i18n=catalogues, mail_contact_phone=PHONE)
    number = await h.register(locale="en", chat_id=1001)
    await h.deliver()
    await h.press_button(number, "Reject", STAFF_A)
    await h.reply(h.last_prompt(), STAFF_A, "The address is wrong.")
    await h.deliver()

    [notice] = h.tg.sent(1001)
    assert f"Your application №{NBSP}{number} has been rejected." in notice.text
    assert notice.text.endswith(
        "If you still need the service changed, you can apply again: open /menu and choose "
        f"“Create a new application”. For questions, call {PHONE}."
    )

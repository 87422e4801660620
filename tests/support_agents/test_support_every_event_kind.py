"""Issue 19: every status and event kind is named in the agents' /status timeline, with its
own icon and words in az, ru and en, never as the raw kind the database keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.utils.i18n import I18n

from bot.catalogues import LOCALES_DIR
from bot.support import status_texts
from workflows.models import Event, EventKind

AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def label(kind: EventKind, locale: str) -> str:
    i18n = I18n(path=LOCALES_DIR, default_locale=locale, domain="messages")
    event = Event(at=AT, kind=kind, actor="staff:7:Rauf Əliyev", note=None)
    with i18n.context(), i18n.use_locale(locale):
        piece = status_texts._event_piece(event, locale)
    icon, _sep, rest = piece.html.partition(" ")
    assert icon != "•", f"{kind} has no icon of its own"
    return rest.split(" — ", 1)[1]


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_has_an_icon_and_words_in_each_language(kind: EventKind) -> None:
    english = label(kind, "en")
    assert english != kind.value
    for locale in ("az", "ru"):
        assert label(kind, locale) != english, f"{kind} is not translated into {locale}"

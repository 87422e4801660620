"""The completion and rejection e-mail as the subscriber reads it (issue 18), in az, ru and en:
both parts say the same, the dates say which is which and in what time, the crew's note is
labelled as theirs, the footer says the address is not read, every e-mail ends with the next
step, and nothing typed becomes markup or fetches anything."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from aiogram.utils.i18n import I18n

from bot.outbox.email import render_email
from bot.outbox.mail_content import EGOV_PORTAL, Contact
from dialogs.wording import translator
from tests.support import draft
from workflows.models import Application, ApplicationKind, ApplicationStatus, EventKind
from workflows.ports import EmailMessage

STATUS_LINK = "https://t.me/azersu_bot?start=status_42"
BOT_LINK = "https://t.me/azersu_bot"
HOSTILE = "<b>bold</b> <3 & <script>alert(1)</script>"
NOTE = "Kran bağlandı və plomblandı.\n" + HOSTILE
REGISTERED_AT = datetime(2026, 12, 6, 8, 1, tzinfo=UTC)
CLOSED_AT = datetime(2026, 12, 7, 1, 16, tzinfo=UTC)  # 05:16 in Baku

# What each language calls the things the e-mail must name.
WORDS = {
    "az": {
        "registered": ("Qeydiyyat tarixi", "06.12.2026, 12:01 (Bakı vaxtı)"),
        "done": ("İcra olunma tarixi", "07.12.2026, 05:16 (Bakı vaxtı)"),
        "rejected": ("Rədd edilmə tarixi", "07.12.2026, 05:16 (Bakı vaxtı)"),
        "crew": "Briqadanın qeydi:",
        "staff": "Əməkdaşımızın göstərdiyi imtina səbəbi:",
        "unread": "bu ünvana göndərilən cavablar oxunmur",
        "brand": "Azərsu",
        "restore": "onun bərpası üçün Telegram botumuzda müraciət edin",
        "again": "Telegram botumuzda yeni müraciət göndərin",
    },
    "ru": {
        "registered": ("Дата регистрации", "06.12.2026, 12:01 (по бакинскому времени)"),
        "done": ("Дата выполнения", "07.12.2026, 05:16 (по бакинскому времени)"),
        "rejected": ("Дата отклонения", "07.12.2026, 05:16 (по бакинскому времени)"),
        "crew": "Примечание бригады:",
        "staff": "Причина отказа, указанная нашим сотрудником:",
        "unread": "ответы на этот адрес не читаются",
        "brand": "Азерсу",
        "restore": "подайте заявление на её восстановление",
        "again": "подайте новое заявление в нашем Telegram-боте",
    },
    "en": {
        "registered": ("Registered on", "06.12.2026, 12:01 (Baku time)"),
        "done": ("Completed on", "07.12.2026, 05:16 (Baku time)"),
        "rejected": ("Rejected on", "07.12.2026, 05:16 (Baku time)"),
        "crew": "Note from the crew:",
        "staff": "Reason for rejection, from our staff:",
        "unread": "replies to this address are not read",
        "brand": "Azersu",
        "restore": "apply for its restoration in our Telegram bot",
        "again": "send a new application in our Telegram bot",
    },
}


def application(locale: str, **changes: object) -> Application:
    base = {
        **dataclasses.asdict(draft("100001", locale=locale, description=HOSTILE, notes=HOSTILE)),
        "number": 42,
        "kind": ApplicationKind.SUSPEND,
        "status": ApplicationStatus.DONE,
        "address": "Bakı ş., Nəsimi r.",
        "created_at": REGISTERED_AT,
        "updated_at": CLOSED_AT,
        "closed_at": CLOSED_AT,
        "result_note": NOTE,
    }
    return Application(**{**base, **changes})  # type: ignore[arg-type]


def render(
    i18n: I18n, app: Application, event: EventKind, contact: Contact | None = None
) -> EmailMessage:
    return render_email(
        app,
        event,
        translator(i18n, app.locale),
        link=STATUS_LINK,
        to=app.email,
        message_id="azersu.outbox.1.email",
        contact=contact,
    )


class Document(HTMLParser):
    """What a mail client would make of the HTML: its tags, attributes and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]
        self._hidden += tag in ("title", "style")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("title", "style")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def parse(html: str) -> Document:
    document = Document()
    document.feed(html)
    document.close()
    return document


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
@pytest.mark.parametrize("event", [EventKind.DONE, EventKind.REJECTED])
def test_both_parts_say_the_same_in_every_language(
    catalogues: I18n, locale: str, event: EventKind
) -> None:
    said = WORDS[locale]
    mail = render(catalogues, application(locale), event)
    visible = one_line(" ".join(parse(mail.html).text))

    assert "42" in mail.subject
    assert mail.language == locale
    assert words(visible) == words(mail.text)  # the same words, in the same order
    for label, value in (said["registered"], said[event.value]):
        assert f"{label}: {value}" in mail.text
        assert f"{label} {value}" in visible  # a row of the table: the label's cell, the value's
    for part in (mail.text, visible):
        assert "42" in part and said["brand"] in part
        assert said["crew" if event is EventKind.DONE else "staff"] in part
        assert said["unread"] in part and "195" in part and "www.azersu.az" in part
    assert f'lang="{locale}"' in mail.html


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
def test_the_crews_note_is_quoted_under_its_label_as_typed(catalogues: I18n, locale: str) -> None:
    mail = render(catalogues, application(locale), EventKind.DONE)
    label = WORDS[locale]["crew"]
    lines = mail.text.splitlines()
    at = lines.index(label)
    assert lines[at + 1 : at + 3] == ["> Kran bağlandı və plomblandı.", f"> {HOSTILE}"]
    assert f"{label}</p>\n<blockquote" in mail.html
    assert "Kran bağlandı və plomblandı." in mail.html  # in the staff's language, untranslated


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
def test_typed_html_stays_text_and_personal_fields_stay_out(catalogues: I18n, locale: str) -> None:
    mail = render(catalogues, application(locale), EventKind.DONE)
    assert "&lt;b&gt;bold&lt;/b&gt; &lt;3 &amp; &lt;script&gt;" in mail.html
    for raw in ("<b>bold", "<3", "<script", "alert(1)</"):
        assert raw not in mail.html
    document = parse(mail.html)
    assert "script" not in document.tags and "b" not in document.tags
    for personal in ("5ABC12D", "100001", "+994501234567", "Nəsimi"):
        assert personal not in mail.text and personal not in mail.html
    assert mail.text.count(HOSTILE) == 1  # the note's line; the description is not sent


def test_html_fetches_nothing_and_links_only_where_we_put_links(catalogues: I18n) -> None:
    contact = Contact(phone="+994 12 555 55 55", site="https://contact.example.az/")
    mail = render(catalogues, application("en"), EventKind.DONE, contact)
    document = parse(mail.html)

    allowed_tags = {"html", "head", "meta", "title", "style", "body", "table", "tr", "td", "p"}
    allowed_tags |= {"strong", "br", "blockquote", "ul", "li", "a"}
    assert set(document.tags) <= allowed_tags
    hrefs = {value for tag, name, value in document.attrs if name == "href"}
    assert hrefs == {
        STATUS_LINK,
        BOT_LINK,
        EGOV_PORTAL,
        "https://contact.example.az/",
        "tel:+994125555555",
    }
    assert not [name for _tag, name, _value in document.attrs if name in ("src", "srcset")]
    assert not [name for _tag, name, _value in document.attrs if name.startswith("on")]
    for fetching in ("url(", "@import", "http://", "<img", "<link"):
        assert fetching not in mail.html
    assert ("meta", "content", "light dark") in document.attrs
    assert '<meta name="supported-color-schemes" content="light dark">' in mail.html
    assert "prefers-color-scheme: dark" in mail.html
    assert "For questions, call +994 12 555 55 55, visit contact.example.az" in mail.text


@pytest.mark.parametrize(
    ("kind", "event", "step"),
    [
        (ApplicationKind.SUSPEND, EventKind.DONE, "restore"),
        (ApplicationKind.SUSPEND, EventKind.REJECTED, "again"),
        (ApplicationKind.RESTORE, EventKind.REJECTED, "again"),
    ],
)
@pytest.mark.parametrize("locale", ["az", "ru", "en"])
def test_every_final_email_ends_with_the_next_step(
    catalogues: I18n, locale: str, kind: ApplicationKind, event: EventKind, step: str
) -> None:
    mail = render(catalogues, application(locale, kind=kind), event)
    body, _sep, footer = mail.text.partition("\n-- \n")
    paragraphs = body.strip().split("\n\n")
    next_step = paragraphs[-2]  # the last before the thanks and the signature
    assert WORDS[locale][step] in next_step and next_step.endswith(BOT_LINK)
    assert WORDS[locale]["unread"] in footer
    assert f'href="{BOT_LINK}"' in mail.html


def test_after_a_restoration_nothing_more_is_needed(catalogues: I18n) -> None:
    mail = render(catalogues, application("en", kind=ApplicationKind.RESTORE), EventKind.DONE)
    assert "Your water supply and wastewater service has been restored." in mail.text
    assert "What next?\nNothing more is needed from you." in mail.text
    assert "restoration in our Telegram bot" not in mail.text


def test_without_a_note_there_is_no_empty_quote(catalogues: I18n) -> None:
    mail = render(catalogues, application("en", result_note=None), EventKind.DONE)
    assert "Note from the crew" not in mail.text and "Note from the crew" not in mail.html
    assert "<blockquote" not in mail.html and "\n>" not in mail.text

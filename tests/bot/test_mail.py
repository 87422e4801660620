"""The e-mail adapters against a real SMTP server on loopback (aiosmtpd) and a temp directory."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.adapters.mail import FileMailer, SmtpMailer, build_mime
from workflows.clock import FixedClock
from workflows.ports import EmailMessage, MailError

HOST = "127.0.0.1"
SUBJECT = "Müraciət № 12 icra olundu"
REFUSED = "nobody@azersu.test"
# 01:16 UTC is 05:16 in Baku (UTC+4 all year).
SENT_AT = datetime(2026, 12, 7, 1, 16, tzinfo=UTC)
BAKU_DATE = "Mon, 07 Dec 2026 05:16:00 +0400"
GREYLISTED = "later@azersu.test"

# The auth server below runs without TLS on purpose (loopback only); aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Collector:
    """An aiosmtpd handler that keeps what it receives and refuses some recipients."""

    received: list[tuple[str, list[str], MimeMessage]] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - the aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 No such user here"
        if address == GREYLISTED:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, MimeMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"bot"
        and auth_data.password == b"s3cret"
    )
    # handled=False: aiosmtpd itself answers a failure with 535 5.7.8.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def auth_smtp_server() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = Controller(
        handler,
        hostname=HOST,
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def message(
    to: str = "abonent@example.org", message_id: str = "<outbox-12@azersu.az>"
) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject=SUBJECT,
        text="Hörmətli abonent, müraciətiniz icra olundu.\nСпасибо!",
        html="<p>Hörmətli abonent, müraciətiniz <b>icra olundu</b>.</p>",
        message_id=message_id,
    )


def mailer(port: int, **kwargs: Any) -> SmtpMailer:
    options: dict[str, Any] = {
        "username": None,
        "password": None,
        "security": "none",
        "mail_from": "Azərsu <noreply@azersu.az>",
        "timeout": 5.0,
        "local_hostname": "bot.test",
    } | kwargs
    return SmtpMailer(HOST, port, **options)


def eml_files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def assert_parts(mime: MimeMessage) -> None:
    assert mime.get_content_type() == "multipart/alternative"
    plain = mime.get_body(("plain",))
    html = mime.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8"
    assert "müraciətiniz icra olundu" in plain.get_content()
    assert "Спасибо!" in plain.get_content()
    assert "<b>icra olundu</b>" in html.get_content()


async def test_smtp_delivers_both_parts_with_utf8_subject(
    smtp_server: tuple[Collector, int],
) -> None:
    handler, port = smtp_server
    await mailer(port, clock=FixedClock(SENT_AT)).send(message())

    [(mail_from, rcpt_tos, mime)] = handler.received
    assert mail_from == "noreply@azersu.az"
    assert rcpt_tos == ["abonent@example.org"]
    assert mime["Subject"] == SUBJECT
    assert mime["Message-ID"] == "<outbox-12@azersu.az>"
    assert mime["To"] == "abonent@example.org"
    assert mime["From"].addresses[0].display_name == "Azərsu"
    assert mime["Date"] == BAKU_DATE  # from the injected clock
    assert_parts(mime)


def test_mime_is_7bit_with_encoded_subject() -> None:
    raw = build_mime(message(), "noreply@azersu.az").as_bytes()
    raw.decode("ascii")  # 7-bit clean: RFC 2047 headers, quoted-printable bodies
    assert b"Subject: =?utf-8?" in raw


def test_date_header_is_baku_time() -> None:
    mime = build_mime(message(), "noreply@azersu.az", date=SENT_AT)
    assert mime["Date"] == BAKU_DATE
    assert mime["Date"].datetime == SENT_AT  # the same instant, with Baku's offset
    assert mime["Date"].datetime.utcoffset() == timedelta(hours=4)


def test_naive_date_is_a_permanent_error() -> None:
    with pytest.raises(MailError) as caught:
        build_mime(message(), "noreply@azersu.az", date=datetime(2026, 12, 7, 5, 16))
    assert caught.value.permanent is True


def test_content_language_when_the_message_says_it() -> None:
    assert build_mime(message(), "noreply@azersu.az")["Content-Language"] is None
    mime = build_mime(replace(message(), language="ru"), "noreply@azersu.az")
    assert mime["Content-Language"] == "ru"
    forged = build_mime(replace(message(), language="az\r\nBcc: x@evil.test"), "n@azersu.az")
    assert forged["Content-Language"] is None and forged["Bcc"] is None


def test_bare_message_id_gets_the_sender_domain() -> None:
    mime = build_mime(message(message_id="outbox-7"), "Azersu <noreply@azersu.az>")
    assert mime["Message-ID"] == "<outbox-7@azersu.az>"


def test_header_injection_in_subject_is_neutralised() -> None:
    evil = EmailMessage(
        to="a@example.org", subject="Hi\r\nBcc: x@evil.test", text="t", html="h", message_id="m1"
    )
    mime = build_mime(evil, "noreply@azersu.az")
    assert mime["Bcc"] is None
    assert mime["Subject"] == "Hi Bcc: x@evil.test"


def test_message_without_recipient_is_a_permanent_error() -> None:
    with pytest.raises(MailError) as caught:
        build_mime(message(to=""), "noreply@azersu.az")
    assert caught.value.permanent is True


async def test_smtp_login(auth_smtp_server: tuple[Collector, int]) -> None:
    handler, port = auth_smtp_server
    await mailer(port, username="bot", password="s3cret").send(message())
    assert len(handler.received) == 1


async def test_smtp_wrong_password_is_permanent(auth_smtp_server: tuple[Collector, int]) -> None:
    handler, port = auth_smtp_server
    with pytest.raises(MailError) as caught:
        await mailer(port, username="bot", password="wrong").send(message())
    assert caught.value.permanent is True
    assert "535" in str(caught.value)
    assert handler.received == []


async def test_smtp_without_login_on_auth_server_is_refused(
    auth_smtp_server: tuple[Collector, int],
) -> None:
    handler, port = auth_smtp_server
    with pytest.raises(MailError) as caught:
        await mailer(port).send(message())
    assert caught.value.permanent is True  # 530 authentication required
    assert handler.received == []


async def test_smtp_server_down_is_temporary() -> None:
    with pytest.raises(MailError) as caught:
        await mailer(free_port(), timeout=2.0).send(message())
    assert caught.value.permanent is False


async def test_smtp_recipient_550_is_permanent(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    with pytest.raises(MailError) as caught:
        await mailer(port).send(message(to=REFUSED))
    assert caught.value.permanent is True
    assert "550" in str(caught.value)
    assert REFUSED not in str(caught.value)
    assert handler.received == []


async def test_smtp_recipient_4xx_is_temporary(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    with pytest.raises(MailError) as caught:
        await mailer(port).send(message(to=GREYLISTED))
    assert caught.value.permanent is False
    assert handler.received == []


async def test_smtp_starttls_unsupported_is_temporary(smtp_server: tuple[Collector, int]) -> None:
    _, port = smtp_server  # the plain server does not offer STARTTLS
    with pytest.raises(MailError) as caught:
        await mailer(port, security="starttls").send(message())
    assert caught.value.permanent is False


def test_smtp_rejects_unknown_security() -> None:
    with pytest.raises(ValueError):
        SmtpMailer(HOST, 25, None, None, "ssl", "a@b.c")  # type: ignore[arg-type]


async def test_file_mailer_writes_one_parseable_eml(tmp_path: Path) -> None:
    directory = tmp_path / "outbox" / "mail"  # created on demand
    file_mailer = FileMailer(directory, mail_from="noreply@azersu.az", clock=FixedClock(SENT_AT))

    await file_mailer.send(message())
    await file_mailer.send(message())  # the same outbox row again: same file

    files = eml_files(directory)
    assert files == [file_mailer.path_for("<outbox-12@azersu.az>")]
    assert files[0].suffix == ".eml"
    assert files[0].name.startswith("outbox-12_azersu.az-")
    mime = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert isinstance(mime, MimeMessage)
    assert mime["Subject"] == SUBJECT
    assert mime["Message-ID"] == "<outbox-12@azersu.az>"
    assert mime["Date"] == BAKU_DATE
    assert_parts(mime)


async def test_file_mailer_keeps_distinct_ids_apart(tmp_path: Path) -> None:
    file_mailer = FileMailer(tmp_path)
    await file_mailer.send(message(message_id="a@b"))
    await file_mailer.send(message(message_id="a_b"))
    await file_mailer.send(message(message_id="../../etc/passwd"))
    names = [path.name for path in eml_files(tmp_path)]
    assert len(names) == 3
    assert all(name.endswith(".eml") and not name.startswith(".") for name in names)

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.mail import SmtpMailer
from bot.config import Settings
from tests.outbox.harness import Harness, make_harness

HOST = "127.0.0.1"


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message it accepts; ``refuse`` maps an address
    to the reply its RCPT TO gets instead of 250 (e.g. a 550 that echoes the address)."""

    received: list[MimeMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, MimeMessage)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(parsed)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname=HOST, port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def h(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, smtp: tuple[Inbox, int]
) -> AsyncIterator[Harness]:
    _inbox, port = smtp
    mailer = SmtpMailer(
        host=HOST,
        port=port,
        username=None,
        password=None,
        security="none",
        mail_from="Azərsu <no-reply@azersu.az>",
        timeout=5,
        local_hostname="bot.test",
    )
    yield await make_harness(settings, engine, tmp_path, mailer=mailer)

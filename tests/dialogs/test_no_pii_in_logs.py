"""Logs carry ids, never the FIN, the phone or the e-mail above DEBUG (DESIGN.md, "Data")."""

from __future__ import annotations

import logging

import pytest

from tests.dialogs.helpers import World, register


async def test_a_whole_registration_logs_no_personal_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = world.subscriber(language_code="en")
    number = await register(user, phone="050 123 45 67", email="secret.person@example.com")
    assert number == 1
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
    for secret in ("5ABC12D", "501234567", "secret.person", "example.com"):
        assert secret not in text

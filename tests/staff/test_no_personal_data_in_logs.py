"""Logs carry ids, never the FIN, the phone or the e-mail above DEBUG (DESIGN.md, "Data"):
over the whole staff loop (card, Take, Done with a note, Reject), an SMTP server that
refuses the completion e-mail with a 550 naming the address, and a subscriber who blocked
the bot. The paths that must log (the refusals, the failures for good) are checked to have
logged, so the test watches code that writes something of its own."""

from __future__ import annotations

import logging

import pytest

from tests.outbox.harness import FIN, STAFF_A, Harness
from tests.staff.conftest import Inbox
from tests.support import assert_no_personal_data, logged_above_debug

PHONE_DIGITS = "501234567"  # of +994501234567, the harness's phone
REFUSED = "refused.probe@example.com"
ACCEPTED = "second.probe@example.org"
SMTP_SERVER_LOGGER = "mail.log"  # aiosmtpd, the test's SMTP server: not the bot's logs


async def test_the_staff_loop_and_its_failures_log_no_personal_data(
    h: Harness, smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    inbox, _port = smtp
    inbox.refuse[REFUSED] = f"550 5.1.1 <{REFUSED}>: Recipient address rejected: User unknown"
    caplog.set_level(logging.DEBUG)
    done = await h.register(chat_id=1001, email=REFUSED)
    rejected = await h.register(chat_id=1002, email=ACCEPTED)
    h.tg.blocked.add(1001)  # the notices of the first one answer 403
    await h.deliver()

    await h.press_button(done, "Take", STAFF_A)
    await h.deliver()
    await h.press_button(done, "Done", STAFF_A)
    await h.reply(h.last_prompt(), STAFF_A, "Su bağlandı, plomb vuruldu.")
    await h.press_button(rejected, "Reject", STAFF_A)
    await h.reply(h.last_prompt(), STAFF_A, "Ünvan səhvdir.")
    await h.deliver()

    rows = {(r.kind, r.recipient): r for r in await h.rows()}
    assert rows[("email", REFUSED)].status == "failed"  # the 550
    assert rows[("notice", "1001")].status == "failed"  # the 403
    assert rows[("email", ACCEPTED)].status == "sent"
    assert [m["X-Envelope-To"] for m in inbox.received] == [ACCEPTED]
    logged = "\n".join(logged_above_debug(caplog.records))
    assert "not sent (permanent): recipient refused: 550" in logged
    assert logged.count("failed for good") >= 2  # the e-mail and the blocked chat's notice
    # The addresses do reach the records, at DEBUG: the capture sees the mail path.
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(REFUSED in message for message in debug)

    ours = [r for r in caplog.records if r.name != SMTP_SERVER_LOGGER]
    assert_no_personal_data(
        ours, FIN, PHONE_DIGITS, REFUSED, ACCEPTED, "refused.probe", "second.probe"
    )

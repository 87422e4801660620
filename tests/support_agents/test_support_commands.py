"""Scenario: an agent asks about applications by command — /status N, /find X, /open, /stats —
in a private chat with the bot, and gets short, escaped, localised answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import update

from bot.app import build_dispatcher
from sandbox.tghtml import parse_html
from storage.models import ApplicationRow
from tests.dialogs.helpers import tr
from tests.support import ChatMessageManager
from tests.support_agents.agents import (
    AGENT_ID,
    FIN,
    MEMBER_ID,
    World,
    write_catalogues,
)
from workflows.identity import IdentityMethod, Verification
from workflows.models import StaffMember
from workflows.outbox.records import OutboxKind, OutboxStatus
from workflows.proofs import record_verification


async def test_status_shows_the_whole_application(world: World) -> None:
    number = await world.submit(
        description="Pipe <leaks> & the tap drips", notes="Dog in the yard", locale="ru"
    )
    world.advance(hours=2)
    await world.take(number)
    world.advance(hours=3)
    await world.complete(number, note="Sealed <valve> & checked")
    sent_at = world.clock.now() + timedelta(minutes=1)
    await world.mark_outbox(
        number, OutboxKind.NOTICE, status=OutboxStatus.SENT, attempts=1, sent_at=sent_at
    )
    await world.mark_outbox(
        number,
        OutboxKind.EMAIL,
        status=OutboxStatus.FAILED,
        attempts=5,
        last_error="550 <box> full & gone",
    )

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert text.startswith(f"<b>Application №\u00a0{number}</b>")
    for expected in (
        "<b>Type:</b> Temporary suspension",
        "<b>Status:</b> ✅ Completed",
        "<b>Reason:</b> Temporary absence (travel, posting)",
        "<b>Subscriber code:</b> 100001",
        "<b>Address:</b> Bakı ş., Nəsimi r., Azadlıq pr. 12",
        "<b>FIN:</b> 5AB•••D",
        "<b>Identified:</b> FIN typed (not proved)",
        "<b>Phone:</b> +994 50 123 45 67",
        "<b>E-mail:</b> aysel@example.com",
        "<b>Description:</b>\n<blockquote>Pipe &lt;leaks&gt; &amp; the tap drips</blockquote>",
        "<b>Notes:</b>\n<blockquote>Dog in the yard</blockquote>",
        "<b>Language:</b> 🇷🇺 Русский",
        # the history, in order
        "27.11.2026, 13:00 (Baku time) — Registered by the subscriber",
        "27.11.2026, 15:00 (Baku time) — Taken by <b>Əli Məmmədov</b>",
        "27.11.2026, 18:00 (Baku time) — Completed by <b>Əli Məmmədov</b>:\n"
        "<blockquote>Sealed &lt;valve&gt; &amp; checked</blockquote>",
        "Telegram message to the subscriber (completed): "
        "<i>sent 27.11.2026, 18:01 (Baku time)</i>",
        "E-mail to the subscriber (completed): <i>failed (attempts: 5)</i>; "
        "last error: 550 &lt;box&gt; full &amp; gone",
        "Card posted to the staff group: <i>waiting to be sent</i>",
    ):
        assert expected in text, expected
    assert FIN not in text
    lines = text.splitlines()
    order = [
        next(i for i, line in enumerate(lines) if marker in line)
        for marker in ("Registered by", "Taken by", "Completed by", "E-mail to")
    ]
    assert order == sorted(order)


async def test_status_of_a_rejected_application_shows_the_reason(world: World) -> None:
    number = await world.submit("100002")
    await world.reject(number, reason="No access to the <meter> room")

    [text] = await world.person(AGENT_ID).send(f"/status №{number}")

    assert "<b>Type:</b> Restoration" in text
    assert "<b>Address:</b> Bakı ş., &lt;Yasamal&gt; &amp; Co" in text
    assert (
        "Rejected by <b>Əli Məmmədov</b>:\n<blockquote>No access to the &lt;meter&gt; room"
        "</blockquote>" in text
    )
    assert "E-mail to the subscriber (rejected)" in text


@pytest.mark.parametrize(
    "command",
    ["/status", "/status abc", "/status 999", "/status " + "1" * 200, "/status 12 13"],
)
async def test_status_bad_arguments_get_a_one_line_hint(world: World, command: str) -> None:
    await world.submit()

    [text] = await world.person(AGENT_ID).send(command)

    assert "\n" not in text
    assert "Usage: /status N" in text
    assert len(text) < 200


async def test_find_by_subscriber_code_lists_newest_first(world: World) -> None:
    first = await world.submit()
    await world.reject(first)
    world.advance(days=1)
    second = await world.submit()
    other = await world.submit("100003")

    [text] = await world.person(AGENT_ID).send("/find 100001")

    lines = text.splitlines()
    assert lines[0] == "<b>Applications for 100001: 2</b>"
    assert lines[1].startswith(f"🆕 №\u00a0{second} · Temporary suspension · 100001 · 28.11.2026")
    assert lines[1].endswith("Registered")
    assert lines[2].startswith(f"❌ №\u00a0{first} ·") and lines[2].endswith("Rejected")
    assert f"№\u00a0{other}" not in text


async def test_find_by_fin_normalises_it_and_masks_it(world: World) -> None:
    mine = await world.submit("100001")
    theirs = await world.submit("100003", fin="7XYZ89K")

    [text] = await world.person(AGENT_ID).send("/find 5abc 12d")

    assert text.splitlines()[0] == "<b>Applications for 5AB•••D: 1</b>"
    assert f"№\u00a0{mine}" in text and f"№\u00a0{theirs}" not in text
    assert FIN not in text


async def test_find_seven_digits_searches_codes_and_fins(world: World) -> None:
    by_fin = await world.submit("100001", fin="1234567")

    [text] = await world.person(AGENT_ID).send("/find 1234567")

    assert f"№\u00a0{by_fin}" in text


@pytest.mark.parametrize("command", ["/find", "/find abc", "/find 5ABC1!D", "/find " + "x" * 200])
async def test_find_bad_arguments_get_a_one_line_hint(world: World, command: str) -> None:
    [text] = await world.person(AGENT_ID).send(command)

    assert "\n" not in text
    assert text.startswith("Usage: /find X")


async def test_find_with_no_result_says_so(world: World) -> None:
    [text] = await world.person(AGENT_ID).send("/find 7XYZ89K")

    assert text == "No applications for 7XY•••K."


async def test_open_lists_oldest_first_with_age_and_overdue_marks(world: World) -> None:
    oldest = await world.submit("100001")
    world.advance(hours=30)
    middle = await world.submit("100003")
    await world.take(middle)
    world.advance(hours=20)
    closed = await world.submit("100004")
    await world.reject(closed)
    newest = await world.submit("100005")
    world.advance(hours=23, minutes=5)  # oldest: 73 h 5 min, past the 72 h deadline

    [text] = await world.person(AGENT_ID).send("/open")

    lines = text.splitlines()
    assert lines[0] == "<b>Open work orders: 3</b>"
    assert "72 h" in lines[1]
    assert lines[2] == (
        f"⏰ 🆕 №\u00a0{oldest} · Temporary suspension · 100001 · 3 d 1 h · <b>overdue</b>"
    )
    assert (
        lines[3] == f"🛠 №\u00a0{middle} · Temporary suspension · 100003 · 1 d 19 h · Əli Məmmədov"
    )
    assert lines[4] == f"🆕 №\u00a0{newest} · Temporary suspension · 100005 · 23 h 5 min"
    assert f"№\u00a0{closed}" not in text


async def test_a_staff_members_name_is_text_in_the_answers(world: World) -> None:
    number = await world.submit()
    rude = StaffMember(user_id=7009, name="<b>Rəşad</b> & <Co")
    await world.services.work_orders.take(number, rude)
    escaped = "&lt;b&gt;Rəşad&lt;/b&gt; &amp; &lt;Co"

    [status] = await world.person(AGENT_ID).send(f"/status {number}")
    [listing] = await world.person(AGENT_ID).send("/open")

    assert f"Taken by <b>{escaped}</b>" in status
    assert f"Taken by {rude.name}" in parse_html(status).text  # as Telegram shows it
    assert escaped in listing and rude.name in parse_html(listing).text


async def test_open_with_nothing_open(world: World) -> None:
    assert await world.person(AGENT_ID).send("/open") == ["There are no open work orders."]


async def test_stats_counts_and_completion_times(world: World) -> None:
    # The fixed clock starts at 09:00 UTC = 13:00 in Baku.
    world.advance(days=-9)
    old = await world.submit("100001")  # nine days ago: not in the last 7 days
    world.advance(days=8, hours=-1)
    await world.reject(old)
    yesterday = await world.submit("100003")  # 26 Nov, 12:00 in Baku
    world.advance(hours=1)
    for code, hours in (("100004", 2), ("100005", 4), ("100006", 10)):
        number = await world.submit(code)
        await world.take(number)
        world.advance(hours=hours)
        await world.complete(number)
        world.advance(hours=-hours)
    world.advance(hours=12)  # now 27 Nov 01:00 Baku: "today" has just begun
    today = await world.submit("100007")
    await world.take(yesterday)
    world.advance(hours=11)

    [text] = await world.person(AGENT_ID).send("/stats")

    assert today
    lines = text.splitlines()
    assert lines[0] == "<b>Applications: 6</b>"
    assert "🆕 Registered: 1" in lines
    assert "🛠 In progress: 1" in lines
    assert "✅ Completed: 3" in lines
    assert "❌ Rejected: 1" in lines
    assert "Open now: 2" in lines
    assert "Registered today: 1" in lines
    assert "Registered in the last 7 days: 5" in lines
    assert (
        "Time from registration to completion (last 30 days, 3 completed): "
        "median 4 h 0 min, 90th percentile 8 h 48 min." in lines
    )


async def test_stats_with_nothing_completed(world: World) -> None:
    await world.submit()

    [text] = await world.person(AGENT_ID).send("/stats")

    assert "Nothing was completed in the last 30 days." in text


async def test_answers_are_in_the_agents_language(world: World, tmp_path: Path) -> None:
    from aiogram.utils.i18n import I18n

    locales = write_catalogues(
        tmp_path / "locales",
        {
            "ru": {
                "Registered today: {count}": "Зарегистрировано сегодня: {count}",
                "<b>Applications: {total}</b>": "<b>Заявок: {total}</b>",
            }
        },
    )
    i18n = I18n(path=locales, default_locale="az", domain="messages")
    world.dp = build_dispatcher(
        world.settings,
        world.services,
        storage=JsonMemoryStorage(),
        message_manager=ChatMessageManager(),
        i18n=i18n,
    )
    await world.submit()

    [russian] = await world.person(AGENT_ID, language_code="ru").send("/stats")
    world.session.members[MEMBER_ID] = "member"
    [english] = await world.person(MEMBER_ID, language_code="en").send("/stats")

    assert russian.startswith("<b>Заявок: 1</b>")
    assert "Зарегистрировано сегодня: 1" in russian
    assert english.startswith("<b>Applications: 1</b>")


async def test_agent_status_inside_a_subscriber_dialog_is_still_answered(world: World) -> None:
    """The support router comes before the dialogs: /status typed while the status dialog
    waits for a number is the agent command, not the dialog's input."""
    number = await world.submit()
    agent = world.person(AGENT_ID)
    await agent.send("/start")

    [text] = await agent.send(f"/status {number}")

    assert text.startswith(f"<b>Application №\u00a0{number}</b>")


async def test_status_shows_how_the_applicant_was_identified_and_who_proved_the_fin(
    world: World,
) -> None:
    number = await world.submit()
    typed = await world.submit("100003")
    async with world.engine.begin() as conn:
        await conn.execute(
            update(ApplicationRow)
            .where(ApplicationRow.number == number)
            .values(identified_by="phone")
        )
    async with world.services.transactions() as uow:
        await record_verification(
            uow, Verification(4242, FIN, IdentityMethod.PHONE, world.clock.now())
        )
        await record_verification(
            uow, Verification(4343, FIN, IdentityMethod.EGOV, world.clock.now())
        )
        await record_verification(
            uow, Verification(4444, "7KQ2M9X", IdentityMethod.EGOV, world.clock.now())
        )
        await uow.commit()
    agent = world.person(AGENT_ID)

    [text] = await agent.send(f"/status {number}")
    [of_typed] = await agent.send(f"/status {typed}")

    assert "<b>Identified:</b> phone matches the registry" in text
    assert "<b>Accounts verified for this FIN</b>" in text
    assert "🔐 Account 4242 · phone matches the registry · 27.11.2026, 13:00 (Baku time)" in text
    assert "🔐 Account 4343 · e-gov login · 27.11.2026, 13:00 (Baku time)" in text
    assert "4444" not in text
    assert "<b>Identified:</b> FIN typed (not proved)" in of_typed


async def test_status_says_when_nobody_proved_the_fin(world: World) -> None:
    number = await world.submit()

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert "None: no account has proved this FIN." in text


async def test_identification_and_verifications_in_the_agents_language(world: World) -> None:
    number = await world.submit()
    async with world.services.transactions() as uow:
        await record_verification(
            uow, Verification(4242, FIN, IdentityMethod.EGOV, world.clock.now())
        )
        await uow.commit()

    [az] = await world.person(AGENT_ID, language_code="az").send(f"/status {number}")
    [ru] = await world.person(AGENT_ID, language_code="ru").send(f"/status {number}")

    for text, locale in ((az, "az"), (ru, "ru")):
        assert tr("FIN typed (not proved)", locale) in text
        assert tr("e-gov login", locale) in text
        assert "FIN typed" not in text and "e-gov login" not in text

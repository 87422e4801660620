"""The outbox against a Bot API that misbehaves: 429 with retry_after, 500s, timeouts, a
user who blocked the bot. Every message arrives exactly once (or is recorded as failed for
good), and Telegram's limits hold on the timestamps of the requests."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_services
from bot.config import Settings
from storage.models import OutboxRow
from tests.outbox.fake_telegram import SENDS, Request
from tests.outbox.harness import STAFF_A, Harness, RecordingMailer, make_harness
from tests.support import draft, eventually, seed_subscribers, subscriber_row
from workflows.models import StaffMember
from workflows.outbox.records import Channel, Delivered, OutboxKind, OutboxStatus
from workflows.ports import MailError, OutboxItem

EPS = 1e-6
CARD = re.compile(r"Work order No\. (\d+)</b>")


def assert_within_limits(
    requests: list[Request], *, per_chat_s: float = 1.0, group_per_min: int = 20, per_s: int = 30
) -> None:
    sends = [r for r in requests if r.name in SENDS]
    by_chat: dict[int, list[float]] = defaultdict(list)
    for request in sends:
        by_chat[request.chat_id or 0].append(request.at)
    for chat_id, times in by_chat.items():
        times.sort()
        for a, b in itertools.pairwise(times):
            assert b - a >= per_chat_s - EPS, f"two messages to {chat_id} within a second"
        if chat_id < 0:
            for i in range(len(times) - group_per_min):
                assert times[i + group_per_min] - times[i] >= 60 - EPS, "group limit exceeded"
    everything = sorted(r.at for r in sends)
    for i in range(len(everything) - per_s):
        assert everything[i + per_s] - everything[i] >= 1 - EPS, "global limit exceeded"


def cards_posted(h: Harness) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for request in h.tg.sent(h.staff_chat_id):
        if match := CARD.search(request.text):
            counts[int(match.group(1))] += 1
    return counts


async def test_faults_every_message_exactly_once_within_limits(h: Harness) -> None:
    users = list(range(2001, 2013))
    h.tg.blocked.add(2005)
    numbers = [await h.register(chat_id=user) for user in users]
    group = h.staff_chat_id
    h.tg.fail("429", chat_id=group, retry_after=7)
    h.tg.fail("500", chat_id=group, times=2)
    h.tg.fail("timeout", chat_id=group)
    await h.deliver()
    assert cards_posted(h) == dict.fromkeys(numbers, 1)

    h.tg.fail("500", method="EditMessageText", times=2)
    h.tg.fail("timeout", chat_id=2003, times=2)
    h.tg.fail("429", chat_id=2007, retry_after=3)
    h.tg.fail("500", chat_id=2009)
    for number in numbers:
        await h.services.work_orders.take(number, StaffMember(STAFF_A.id, "Elvin"))
    await h.deliver()

    for user in users:
        expected = 0 if user == 2005 else 1
        assert len(h.tg.sent(user)) == expected, user
    edits = h.tg.ok("EditMessageText", group)
    assert len(edits) == len(numbers)
    assert cards_posted(h) == dict.fromkeys(numbers, 1)

    rows = await h.rows()
    failed = [r for r in rows if r.status == OutboxStatus.FAILED]
    assert [(r.kind, r.recipient) for r in failed] == [(OutboxKind.NOTICE, "2005")]
    assert "blocked" in (failed[0].last_error or "")
    assert all(r.status == OutboxStatus.SENT for r in rows if r not in failed)
    assert all(r.lease_owner is None for r in rows)

    assert_within_limits(h.tg.log)
    # retry_after is honoured: nothing went to the group for 7 s after the 429
    first_429 = next(r for r in h.tg.log if r.chat_id == group and "Too Many" in r.error)
    later = [r.at for r in h.tg.log if r.chat_id == group and r.at > first_429.at]
    assert min(later) - first_429.at >= 7 - EPS


async def test_retry_after_holds_the_chat_for_every_recipient_that_reaches_it(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    """STAFF_CHAT_ID changed to the supergroup the group became, with cards still owed under
    the old id: two recipients, one chat. A 429 on one keeps the other back too."""
    old, new = -1001000000001, -1002000000002
    h = await make_harness(settings, engine, tmp_path, staff_chat_id=new)
    h.tg.migrate(old, new)
    await h.runner.store.remember_migration(old, new, h.clock.now())
    before = build_services(
        h.settings.model_copy(update={"staff_chat_id": old}), engine=engine, clock=h.clock
    )
    await seed_subscribers(engine, [subscriber_row("300001")])
    owed = await before.journey.submit(draft("300001"))
    fresh = await h.register(chat_id=1002)
    assert {r.recipient for r in await h.rows()} == {str(old), str(new)}
    h.tg.fail("429", chat_id=new, retry_after=30)

    await h.deliver()

    assert cards_posted(h) == {owed: 1, fresh: 1}
    [refused, *later] = [r for r in h.tg.log if r.chat_id == new and r.name == "SendMessage"]
    assert "Too Many" in refused.error and len(later) == 2
    assert min(r.at for r in later) - refused.at >= 30 - EPS


async def test_subscriber_notice_is_not_stuck_behind_the_group_backlog(h: Harness) -> None:
    first = await h.register(chat_id=3001)
    await h.deliver()
    start = h.clock.monotonic()
    backlog = [await h.register(chat_id=3100 + i) for i in range(30)]
    await h.services.work_orders.take(first, StaffMember(STAFF_A.id, "Elvin"))
    await h.deliver()

    notice = h.tg.sent(3001)
    assert len(notice) == 1
    cards = [r.at for r in h.tg.sent(h.staff_chat_id) if CARD.search(r.text)]
    assert len(cards) == 1 + len(backlog)
    assert notice[0].at - start < 2  # within two seconds ...
    assert cards[-1] - start > 60  # ... while the group needs more than a minute
    assert_within_limits(h.tg.log)


async def test_crash_between_commit_and_send_sends_after_restart(h: Harness) -> None:
    number = await h.register(chat_id=4001)  # committed; the process dies before sending
    h.runner = h.new_runner("after-restart")
    await h.deliver()
    assert cards_posted(h) == {number: 1}


async def test_crash_after_claim_waits_for_the_lease_then_sends_once(h: Harness) -> None:
    number = await h.register(chat_id=4002)
    store = h.runner.store
    # A dispatcher claims the card and dies before sending it.
    dead = await store.claim_due("dead", h.clock.now(), timedelta(minutes=5), 10)
    assert [item.kind for item in dead] == [OutboxKind.STAFF_CARD]

    assert await h.runner.flush() == 0  # leased: the others leave it alone
    assert cards_posted(h) == {}
    h.clock.advance(timedelta(minutes=5, seconds=1))
    await h.deliver()
    assert cards_posted(h) == {number: 1}
    # The dead dispatcher coming back cannot overwrite the outcome.
    assert not await store.mark_sent(dead[0], Delivered(chat_id=1, message_id=1), h.clock.now())
    rows = await h.rows()
    assert rows[0].status == OutboxStatus.SENT and rows[0].attempts == 1


async def test_smtp_outage_delays_the_mail_without_losing_it(
    h: Harness, mailer: RecordingMailer
) -> None:
    number = await h.register(chat_id=5001, email="a@example.com")
    other = await h.register(chat_id=5002, email="nobody@example.com")
    await h.deliver()
    mailer.failures = [MailError("SMTP server unavailable")] * 3
    staff = StaffMember(STAFF_A.id, "Elvin")
    await h.services.work_orders.take(number, staff)
    await h.services.work_orders.complete(number, staff, "Bağlandı.")
    await h.deliver()
    assert [m.to for m in mailer.sent] == ["a@example.com"]
    row = next(r for r in await h.rows() if r.kind == OutboxKind.EMAIL)
    assert row.status == OutboxStatus.SENT and row.attempts == 4
    assert f"{number}" in mailer.sent[0].subject

    mailer.failures = [MailError("550 5.1.1 unknown mailbox", permanent=True)]
    await h.services.work_orders.reject(other, staff, "Sənəd yoxdur.")
    await h.deliver()
    row = [r for r in await h.rows() if r.kind == OutboxKind.EMAIL][-1]
    assert row.status == OutboxStatus.FAILED and "unknown mailbox" in (row.last_error or "")
    assert len(mailer.sent) == 1


async def test_identical_edit_counts_as_sent(h: Harness) -> None:
    number = await h.register(chat_id=6001)
    await h.deliver()
    # a second edit of an unchanged card: Telegram answers "message is not modified"
    async with h.services.transactions() as tx:
        await tx.outbox.enqueue(
            OutboxItem(
                kind=OutboxKind.STAFF_CARD_EDIT,
                channel=Channel.TELEGRAM,
                recipient=str(h.staff_chat_id),
                dedupe_key="again",
                application_number=number,
            ),
            h.clock.now(),
        )
        await tx.commit()
    await h.deliver()
    row = next(r for r in await h.rows() if r.dedupe_key == "again")
    assert row.status == OutboxStatus.SENT
    assert any("not modified" in r.error for r in h.tg.log)


async def test_card_edit_reposts_a_card_that_never_arrived(h: Harness) -> None:
    number = await h.register(chat_id=6002)
    h.tg.fail("400", chat_id=h.staff_chat_id, description="Bad Request: can't parse entities")
    await h.services.work_orders.take(number, StaffMember(STAFF_A.id, "Elvin"))
    await h.deliver()
    rows = {r.kind: r for r in await h.rows() if r.recipient == str(h.staff_chat_id)}
    assert rows[OutboxKind.STAFF_CARD].status == OutboxStatus.FAILED
    assert rows[OutboxKind.STAFF_CARD_EDIT].status == OutboxStatus.SENT
    assert cards_posted(h) == {number: 1}  # posted by the edit, in its current state
    assert "Taken by" in h.card_text(*await h.card_ref(number))


async def test_runner_starts_and_stops_cleanly(h: Harness) -> None:
    h.runner.poll_interval = 0.01
    await h.runner.start()
    number = await h.register(chat_id=7001)
    h.runner.wake()
    await eventually(lambda: bool(cards_posted(h)), what="the card")
    await h.runner.stop()
    assert cards_posted(h) == {number: 1}
    async with h.services.transactions.session_factory() as session:
        leased = await session.scalars(select(OutboxRow).where(OutboxRow.lease_owner.is_not(None)))
        assert list(leased) == []

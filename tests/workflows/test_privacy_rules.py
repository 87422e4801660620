"""The citizen's own data on the fakes: /mydata, /forget, retention (issue 16, items 5, 6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.workflows.world import (
    ALI,
    FIN,
    OTHER_FIN,
    STAFF_CHAT_ID,
    World,
    application,
    draft,
    subscriber,
)
from workflows.errors import OpenApplicationsPending
from workflows.identity import AuditAction, IdentityMethod, Verification
from workflows.models import Application, ApplicationStatus
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import UserProfile
from workflows.privacy import ERASED_FIN, NOBODY, Privacy, anonymised
from workflows.proofs import Proofs

ACCOUNT = 3003  # no profile in the world: nothing proved by its phone
OTHER_ACCOUNT = 2002
ADDRESS = "Bakı ş., Nəsimi r., Azadlıq pr. 12, m. 5"
AREA = "Bakı ş., Nəsimi r."


def privacy(world: World) -> Privacy:
    return Privacy(world.transactions, world.clock, STAFF_CHAT_ID)


async def filed(
    world: World, code: str, *, fin: str = FIN, account: int = ACCOUNT, close: bool = True
) -> int:
    """An application of ``account`` for ``code`` (owned by ``fin``), completed if ``close``."""
    world.db.add_subscribers(replace(subscriber(code, owner_fin=fin), address=ADDRESS))
    number = await world.journey.submit(draft(code, fin=fin, user_id=account))
    if close:
        await world.work_orders.take(number, ALI)
        await world.work_orders.complete(number, ALI, "Done, call +994501234567 if needed.")
    return number


def audit(world: World, action: AuditAction) -> list[object]:
    return [e for e in world.db.audit.values() if e.action is action]


# --- anonymising --------------------------------------------------------------------------
def test_anonymising_keeps_the_records_and_drops_who_it_was(world: World) -> None:
    original = replace(application(7), address=ADDRESS, result_note="Done.")
    done = anonymised(original, world.clock.now())
    assert (done.fin, done.phone, done.email, done.description) == (ERASED_FIN, "", "", "")
    assert done.notes is None and done.result_note is None
    assert done.address == AREA
    assert done.telegram_user_id == done.chat_id == NOBODY
    assert done.anonymised_at == world.clock.now()
    kept = ("number", "kind", "status", "subscriber_code", "reason_code", "created_at")
    assert all(getattr(done, name) == getattr(original, name) for name in kept)


# --- /mydata ------------------------------------------------------------------------------
async def test_my_data_holds_the_profile_the_proofs_and_every_visible_application(
    world: World,
) -> None:
    mine = await filed(world, "100001")
    others_of_my_fin = await filed(world, "100002", account=OTHER_ACCOUNT)
    strangers = await filed(world, "100003", fin=OTHER_FIN, account=OTHER_ACCOUNT)
    world.db.profiles[ACCOUNT] = UserProfile(ACCOUNT, "ru", FIN, "+994501234567")

    before = await privacy(world).my_data(ACCOUNT)
    assert [a.number for a in before.applications] == [mine]  # not proved: own filings only
    assert before.profile == UserProfile(ACCOUNT, "ru", FIN, "+994501234567")
    assert before.verifications == ()

    await Proofs(world.registry, world.transactions, world.clock).prove(
        ACCOUNT, FIN, IdentityMethod.PHONE
    )
    data = await privacy(world).my_data(ACCOUNT)
    assert [a.number for a in data.applications] == [others_of_my_fin, mine]
    assert strangers not in [a.number for a in data.applications]
    assert data.verifications == (
        Verification(ACCOUNT, FIN, IdentityMethod.PHONE, world.clock.now()),
    )
    # every field, with the history
    app = data.applications[-1]
    assert (app.fin, app.phone, app.email) == (FIN, "+994501234567", "user@example.com")
    assert [e.kind.value for e in app.events] == ["registered", "taken", "done"]
    assert app.result_note == "Done, call +994501234567 if needed."


async def test_my_data_of_an_unknown_account_is_empty(world: World) -> None:
    data = await privacy(world).my_data(ACCOUNT)
    assert data.empty and data.profile is None


# --- /forget ------------------------------------------------------------------------------
async def test_forget_is_refused_while_an_application_of_the_account_is_open(
    world: World,
) -> None:
    await filed(world, "100001")
    still_open = await filed(world, "100002", close=False)
    world.db.profiles[ACCOUNT] = UserProfile(ACCOUNT, "az", FIN)

    assert await privacy(world).open_filings(ACCOUNT) == (still_open,)
    with pytest.raises(OpenApplicationsPending) as refused:
        await privacy(world).forget(ACCOUNT)

    assert refused.value.numbers == (still_open,)
    assert world.db.profiles[ACCOUNT].fin == FIN  # nothing erased
    assert all(a.anonymised_at is None for a in world.db.applications.values())
    assert not audit(world, AuditAction.ERASED)


async def test_forget_anonymises_the_closed_filings_and_deletes_profile_and_proofs(
    world: World,
) -> None:
    mine = await filed(world, "100001")
    not_mine = await filed(world, "100002", account=OTHER_ACCOUNT)
    world.db.profiles[ACCOUNT] = UserProfile(ACCOUNT, "az", FIN, "+994501234567")
    await Proofs(world.registry, world.transactions, world.clock).prove(
        ACCOUNT, FIN, IdentityMethod.PHONE
    )

    result = await privacy(world).forget(ACCOUNT)

    assert (result.anonymised, result.verifications) == (1, 1)
    assert world.db.profiles.get(ACCOUNT) is None
    assert not [v for v in world.db.verifications.values() if v is not None]
    erased = world.db.application(mine)
    assert (erased.fin, erased.phone, erased.email, erased.address) == (ERASED_FIN, "", "", AREA)
    assert erased.telegram_user_id == NOBODY and erased.anonymised_at == world.clock.now()
    assert all(e.note is None and e.actor != f"tg:{ACCOUNT}" for e in erased.events)
    assert world.db.application(not_mine).fin == FIN  # another account's filing stays
    # the applicant's messages lose their recipient; the staff card is shown anonymised
    to_applicant = [
        i for i in world.db.outbox_of(mine) if i.kind in (OutboxKind.NOTICE, OutboxKind.EMAIL)
    ]
    assert to_applicant and all(i.recipient == "" for i in to_applicant)
    edits = [i for i in world.db.outbox_of(mine) if i.dedupe_key == f"card_edit:{mine}:erased"]
    assert [(e.kind, e.channel) for e in edits] == [(OutboxKind.STAFF_CARD_EDIT, Channel.TELEGRAM)]
    # one audit event, counts only
    [event] = audit(world, AuditAction.ERASED)
    assert event.subject == f"tg:{ACCOUNT}"
    assert FIN not in str(event) and "example.com" not in str(event)
    assert event.detail == "applications=1 verifications=1"


async def test_after_forget_the_account_sees_nothing(world: World) -> None:
    await filed(world, "100001")
    world.db.profiles[ACCOUNT] = UserProfile(ACCOUNT, "az", FIN)
    await privacy(world).forget(ACCOUNT)
    assert (await privacy(world).my_data(ACCOUNT)).empty
    assert await world.journey.applications_of(ACCOUNT) == []


async def test_forget_of_an_account_with_nothing_stored_still_leaves_its_audit_event(
    world: World,
) -> None:
    result = await privacy(world).forget(ACCOUNT)
    assert (result.anonymised, result.verifications) == (0, 0)
    assert [e.detail for e in audit(world, AuditAction.ERASED)] == [
        "applications=0 verifications=0"
    ]


# --- retention ----------------------------------------------------------------------------
async def test_retention_anonymises_exactly_the_applications_closed_before_the_limit(
    world: World,
) -> None:
    old = await filed(world, "100001")
    world.clock.advance(timedelta(days=10))
    on_the_limit = await filed(world, "100002")
    world.clock.advance(timedelta(days=1))
    recent = await filed(world, "100003")
    still_open = await filed(world, "100004", close=False)
    world.clock.advance(timedelta(days=30))  # now: old closed 41 days ago, the limit 31 days

    count = await privacy(world).retention(days=31)

    assert count == 1
    assert world.db.application(old).anonymised_at == world.clock.now()
    for number in (on_the_limit, recent, still_open):
        assert world.db.application(number).anonymised_at is None
        assert world.db.application(number).fin == FIN
    [event] = audit(world, AuditAction.RETENTION)
    assert event.detail == "1"


async def test_retention_works_in_batches_and_counts_once_per_run(world: World) -> None:
    numbers = [await filed(world, f"10000{i}") for i in range(1, 6)]
    world.clock.advance(timedelta(days=400))
    commits = world.db.commits

    assert await privacy(world).retention(days=365, batch=2) == 5

    assert all(world.db.application(n).anonymised_at is not None for n in numbers)
    assert world.db.commits - commits == 3 + 1  # batches of 2, 2, 1 and the audit event
    assert [e.detail for e in audit(world, AuditAction.RETENTION)] == ["5"]
    # a second run finds nothing and records nothing
    assert await privacy(world).retention(days=365, batch=2) == 0
    assert len(audit(world, AuditAction.RETENTION)) == 1


async def test_retention_never_touches_an_open_application(world: World) -> None:
    number = await filed(world, "100001", close=False)
    world.clock.advance(timedelta(days=4000))
    assert await privacy(world).retention(days=1) == 0
    app: Application = world.db.application(number)
    assert app.status is ApplicationStatus.REGISTERED and app.fin == FIN


async def test_retention_refuses_a_limit_that_is_not_positive(world: World) -> None:
    with pytest.raises(ValueError):
        await privacy(world).retention(days=0)

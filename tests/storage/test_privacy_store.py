"""The ``PersonalData`` role: one contract for SQL and the fake, then what only SQL holds
(outbox statuses, e-gov logins, probe counters)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_session_factory
from storage.models import OidcStateRow, OutboxRow, ProbeRow, UserRow
from storage.repositories import SqlTransactionFactory
from tests.workflows.world import FIN, START, World
from tests.workflows.world import application as registered
from workflows.models import Application, ApplicationStatus, Event, EventKind
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import OutboxItem, TransactionFactory, UserProfile
from workflows.privacy import anonymised

NOW = START
ADDRESS = "Bakı ş., Nəsimi r., Azadlıq pr. 12, m. 5"


@pytest.fixture(params=["fake", "sql"])
async def transactions(
    request: pytest.FixtureRequest, engine: AsyncEngine
) -> AsyncIterator[TransactionFactory]:
    if request.param == "fake":
        yield World().transactions
    else:
        yield SqlTransactionFactory(create_session_factory(engine))


async def add(
    transactions: TransactionFactory,
    code: str,
    *,
    account: int = 1001,
    closed_days_ago: float | None = None,
) -> int:
    """An application of ``account``, closed that many days before NOW (None: open)."""
    app = replace(registered(0, code), telegram_user_id=account, chat_id=account, address=ADDRESS)
    async with transactions() as uow:
        number = await uow.applications.add(app)
        filed = NOW - timedelta(days=closed_days_ago or 0, hours=1)
        await uow.applications.add_event(
            number, Event(filed, EventKind.REGISTERED, f"tg:{account}")
        )
        if closed_days_ago is not None:
            closed = NOW - timedelta(days=closed_days_ago)
            await uow.applications.update(
                replace(
                    app,
                    number=number,
                    status=ApplicationStatus.DONE,
                    closed_at=closed,
                    result_note="Done; the neighbour at +994501234567 has the key.",
                )
            )
            await uow.applications.add_event(
                number, Event(closed, EventKind.DONE, "staff:5:Ali", "Key left with neighbour.")
            )
        for kind, channel, recipient in (
            (OutboxKind.STAFF_CARD, Channel.TELEGRAM, "-100"),
            (OutboxKind.NOTICE, Channel.TELEGRAM, str(account)),
            (OutboxKind.EMAIL, Channel.EMAIL, "user@example.com"),
        ):
            item = OutboxItem(kind, channel, recipient, f"{kind}:{number}", number)
            await uow.outbox.enqueue(item, NOW)
        await uow.commit()
    return number


async def get(transactions: TransactionFactory, number: int) -> Application:
    async with transactions.read() as uow:
        app = await uow.applications.get(number)
    assert app is not None
    return app


async def test_the_filings_of_an_account_newest_first(transactions: TransactionFactory) -> None:
    first = await add(transactions, "100001", closed_days_ago=3)
    second = await add(transactions, "100002")
    await add(transactions, "100003", account=2002)

    async with transactions.read() as uow:
        assert [a.number for a in await uow.personal.filed_by(1001)] == [second, first]
        assert await uow.personal.filed_by(3003) == []


async def test_closed_before_is_the_closed_not_anonymised_oldest_first(
    transactions: TransactionFactory,
) -> None:
    newer = await add(transactions, "100001", closed_days_ago=400)
    older = await add(transactions, "100002", closed_days_ago=500)
    await add(transactions, "100003", closed_days_ago=10)  # closed within the limit
    await add(transactions, "100004")  # open
    gone = await add(transactions, "100005", closed_days_ago=600)
    async with transactions() as uow:
        await uow.personal.anonymise([anonymised(await get(transactions, gone), NOW)], NOW)
        await uow.commit()

    cutoff = NOW - timedelta(days=365)
    async with transactions.read() as uow:
        assert [a.number for a in await uow.personal.closed_before(cutoff, limit=10)] == [
            older,
            newer,
        ]
        assert [a.number for a in await uow.personal.closed_before(cutoff, limit=1)] == [older]


async def test_anonymise_replaces_the_personal_fields_notes_and_actors(
    transactions: TransactionFactory,
) -> None:
    number = await add(transactions, "100001", closed_days_ago=1)
    other = await add(transactions, "100002", closed_days_ago=1, account=2002)
    app = await get(transactions, number)

    async with transactions() as uow:
        await uow.personal.anonymise([anonymised(app, NOW)], NOW)
        await uow.commit()

    stored = await get(transactions, number)
    assert stored == replace(anonymised(app, NOW), events=stored.events)
    assert [(e.actor, e.note) for e in stored.events] == [("tg:0", None), ("staff:5:Ali", None)]
    untouched = await get(transactions, other)
    assert untouched.anonymised_at is None and untouched.events[1].note is not None


async def test_erasing_an_account_deletes_its_profile_only(
    transactions: TransactionFactory,
) -> None:
    async with transactions() as uow:
        await uow.profiles.save(UserProfile(1001, "ru", FIN, "+994501234567"), NOW)
        await uow.profiles.save(UserProfile(2002, "az", FIN), NOW)
        await uow.commit()

    async with transactions() as uow:
        await uow.personal.erase_account(1001)
        await uow.commit()

    async with transactions.read() as uow:
        assert await uow.profiles.get(1001) is None
        assert await uow.profiles.get(2002) == UserProfile(2002, "az", FIN)


# --- SQL only -----------------------------------------------------------------------------
@pytest.fixture
def sql(engine: AsyncEngine) -> SqlTransactionFactory:
    return SqlTransactionFactory(create_session_factory(engine))


async def test_the_applicants_outbox_rows_lose_their_recipient_and_pending_ones_give_up(
    sql: SqlTransactionFactory, engine: AsyncEngine
) -> None:
    number = await add(sql, "100001", closed_days_ago=1)
    async with engine.begin() as conn:  # the notice went out; the e-mail is still pending
        await conn.execute(
            OutboxRow.__table__.update()
            .where(OutboxRow.dedupe_key == f"notice:{number}")
            .values(status="sent", result={"chat_id": 1001, "message_id": 7})
        )
    app = await get(sql, number)

    async with sql() as uow:
        await uow.personal.anonymise([anonymised(app, NOW)], NOW)
        await uow.commit()

    async with engine.connect() as conn:
        rows = {
            r.kind: r
            for r in await conn.execute(
                select(OutboxRow.kind, OutboxRow.recipient, OutboxRow.status, OutboxRow.result)
                .add_columns(OutboxRow.last_error)
                .where(OutboxRow.application_number == number)
            )
        }
    assert (rows["notice"].recipient, rows["notice"].status, rows["notice"].result) == (
        "",
        "sent",
        None,
    )
    assert (rows["email"].recipient, rows["email"].status, rows["email"].last_error) == (
        "",
        "failed",
        "erased",
    )
    assert (rows["staff_card"].recipient, rows["staff_card"].status) == ("-100", "pending")


async def test_erasing_an_account_deletes_its_pending_e_gov_logins(
    sql: SqlTransactionFactory, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(OidcStateRow),
            [login("mine", 1001, NOW), login("theirs", 2002, NOW)],
        )
        await conn.execute(insert(UserRow), [{"telegram_user_id": 1001, "updated_at": NOW}])

    async with sql() as uow:
        await uow.personal.erase_account(1001)
        await uow.commit()

    async with engine.connect() as conn:
        assert list(await conn.scalars(select(OidcStateRow.state))) == ["theirs"]
        assert list(await conn.scalars(select(UserRow.telegram_user_id))) == []


async def test_expired_logins_and_past_probe_counters_are_purged(
    sql: SqlTransactionFactory, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(OidcStateRow),
            [
                login("expired", 1, NOW - timedelta(seconds=1)),
                login("live", 2, NOW + timedelta(minutes=5)),
            ],
        )
        await conn.execute(
            insert(ProbeRow),
            [
                {"day": day, "account": 1, "kind": "code", "value_hash": "h"}
                for day in ("2026-11-24", "2026-11-25", "2026-11-27")
            ],
        )

    async with sql() as uow:
        assert await uow.personal.purge_expired(NOW, probes_before="2026-11-25") == 2
        await uow.commit()

    async with engine.connect() as conn:
        assert list(await conn.scalars(select(OidcStateRow.state))) == ["live"]
        assert sorted(await conn.scalars(select(ProbeRow.day))) == ["2026-11-25", "2026-11-27"]


def login(state: str, account: int, expires: object) -> dict[str, object]:
    return {
        "state": state,
        "telegram_user_id": account,
        "chat_id": account,
        "code_verifier": "v" * 43,
        "nonce": "n",
        "expires_at": expires,
    }

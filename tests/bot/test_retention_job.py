"""The retention job (issue 16, item 6): RETENTION_DAYS, and each run anonymises exactly the
applications closed longer ago, with an audit count, and deletes expired e-gov logins."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_retention, build_services
from bot.config import Settings
from bot.retention import RetentionJob
from storage.models import ApplicationRow, AuditRow, OidcStateRow
from tests.support import seed_subscribers, subscriber_row
from workflows.clock import FixedClock
from workflows.models import Draft, StaffMember
from workflows.privacy import ERASED_FIN

FIN = "5ABC12D"
ALI = StaffMember(user_id=501, name="Ali")


def test_retention_days_default_to_a_year_and_must_be_positive(settings: Settings) -> None:
    assert settings.retention_days == 365
    assert Settings(RETENTION_DAYS="30", _env_file=None).retention_days == 30
    with pytest.raises(ValidationError):
        Settings(RETENTION_DAYS="0", _env_file=None)


async def closed(settings: Settings, engine: AsyncEngine, clock: FixedClock, code: str) -> int:
    services = build_services(settings, engine=engine, clock=clock)
    draft = Draft(
        FIN, code, "absence", "+994501234567", "a@example.com", "Away.", None, "az", 7, 7
    )
    number = await services.journey.submit(draft)
    await services.work_orders.take(number, ALI)
    await services.work_orders.complete(number, ALI, "Done.")
    return number


async def test_a_run_anonymises_exactly_the_applications_past_the_limit(
    settings: Settings, engine: AsyncEngine, clock: FixedClock
) -> None:
    await seed_subscribers(
        engine, [subscriber_row(code, owner_fin=FIN) for code in ("100001", "100002")]
    )
    settings = settings.model_copy(update={"retention_days": 30})
    old = await closed(settings, engine, clock, "100001")
    clock.advance(timedelta(seconds=1))
    young = await closed(settings, engine, clock, "100002")
    clock.advance(timedelta(days=30))  # young closed 30 days ago exactly, old a second more
    async with engine.begin() as conn:
        await conn.execute(
            insert(OidcStateRow),
            [
                {
                    "state": "gone",
                    "telegram_user_id": 7,
                    "chat_id": 7,
                    "code_verifier": "v",
                    "nonce": "n",
                    "expires_at": clock.now() - timedelta(minutes=1),
                }
            ],
        )
    job = build_retention(settings, build_services(settings, engine=engine, clock=clock))

    assert await job.run_once() == 1

    async with engine.connect() as conn:
        fins = dict((await conn.execute(select(ApplicationRow.number, ApplicationRow.fin))).all())
        audit = (await conn.execute(select(AuditRow.action, AuditRow.detail))).all()
        logins = list(await conn.scalars(select(OidcStateRow.state)))
    assert fins == {old: ERASED_FIN, young: FIN}
    assert [tuple(row) for row in audit] == [("retention", "1")]
    assert logins == []


class CountingPrivacy:
    def __init__(self) -> None:
        self.runs = 0
        self.ran = asyncio.Event()

    async def retention(self, *, days: float, batch: int) -> int:
        self.runs += 1
        self.ran.set()
        return 0

    async def purge_expired(self) -> int:
        return 0


async def test_the_job_runs_at_start_and_stops_between_runs() -> None:
    privacy = CountingPrivacy()
    job = RetentionJob(privacy, days=365, every_s=3600)  # type: ignore[arg-type]

    await job.start()
    await asyncio.wait_for(privacy.ran.wait(), timeout=10)
    await job.stop()

    assert privacy.runs == 1

"""The use cases wired to the in-memory fakes, with a fixed clock and the demo's records."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.workflows.fake_access import FakeAccessLog
from tests.workflows.fakes import (
    FakeDatabase,
    FakeSubscriberRegistry,
    FakeSupportQueries,
    FakeTransactions,
)
from workflows.clock import FixedClock
from workflows.journey import Journey
from workflows.models import (
    Application,
    ApplicationKind,
    Draft,
    Event,
    Reason,
    ServiceState,
    StaffMember,
    Subscriber,
)
from workflows.ports import UserProfile
from workflows.support import Support
from workflows.work_orders import WorkOrders

STAFF_CHAT_ID = -1001000000001
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DEADLINE = timedelta(hours=48)
FIN = "5ABC12D"
OTHER_FIN = "7XYZ98K"
USER = 1001  # the Telegram account of the drafts
# The registry's phone of every subscriber here, and the phone Telegram verified for USER:
# a code without an owner FIN on record is USER's by that match (workflows.identity).
PHONE = "+994501234567"
ALI = StaffMember(user_id=501, name="Ali")
LEYLA = StaffMember(user_id=502, name="Leyla")

SUSPEND_REASONS = ("absence", "renovation", "vacant", "seasonal", "suspend_other")
RESTORE_REASONS = ("returned", "renovation_done", "new_occupant", "restore_other")


def reason(code: str, kind: ApplicationKind) -> Reason:
    return Reason(code=code, kind=kind, labels={"az": code, "ru": code, "en": code})


def subscriber(
    code: str = "100001",
    *,
    meterless: bool = True,
    debt: str = "0",
    state: ServiceState = ServiceState.ACTIVE,
    owner_fin: str | None = None,
    phone: str | None = PHONE,
) -> Subscriber:
    return Subscriber(
        code=code,
        meterless=meterless,
        debt=Decimal(debt),
        state=state,
        address=f"Bakı, {code}",
        owner_fin=owner_fin,
        phone=phone,
    )


def draft(
    code: str = "100001", reason_code: str = "absence", *, fin: str = FIN, user_id: int = USER
) -> Draft:
    return Draft(
        fin=fin,
        subscriber_code=code,
        reason_code=reason_code,
        phone=PHONE,
        email="user@example.com",
        description="Going abroad for two months.",
        notes="Please call before noon.",
        locale="az",
        telegram_user_id=user_id,
        chat_id=user_id,
    )


def application(
    number: int,
    code: str = "100001",
    *,
    fin: str = FIN,
    at: datetime = START,
    events: tuple[Event, ...] = (),
) -> Application:
    """The record ``draft(code, fin=fin)`` registers as a suspension at ``at``."""
    registered = Application.register(
        draft(code, fin=fin),
        kind=ApplicationKind.SUSPEND,
        address=f"Bakı, {code}",  # from the registry, not from the form
        at=at,
    )
    # the world's reasons have no deadline of their own: due after the global DEADLINE
    return replace(registered, number=number, events=events, due_at=at + DEADLINE)


@dataclass(slots=True)
class World:
    """One in-memory installation: the database, the registry, the clock and the use cases."""

    db: FakeDatabase = field(default_factory=FakeDatabase)
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))
    registry: FakeSubscriberRegistry = field(init=False)
    transactions: FakeTransactions = field(init=False)
    queries: FakeSupportQueries = field(init=False)
    journey: Journey = field(init=False)
    work_orders: WorkOrders = field(init=False)
    access_log: FakeAccessLog = field(default_factory=FakeAccessLog)

    def __post_init__(self) -> None:
        self.db.add_reasons(reason(code, ApplicationKind.SUSPEND) for code in SUSPEND_REASONS)
        self.db.add_reasons(reason(code, ApplicationKind.RESTORE) for code in RESTORE_REASONS)
        # USER and a second account on the same (family) phone
        for account in (USER, USER + 1):
            self.db.profiles[account] = UserProfile(account, verified_phone=PHONE)
        self.registry = FakeSubscriberRegistry(self.db)
        self.transactions = FakeTransactions(self.db)
        self.queries = FakeSupportQueries(self.db)
        self.journey = Journey(
            self.registry, self.transactions, self.clock, STAFF_CHAT_ID, deadline=DEADLINE
        )
        self.work_orders = WorkOrders(self.transactions, self.clock, STAFF_CHAT_ID)

    def support(self, deadline: timedelta = DEADLINE) -> Support:
        return Support(self.queries, self.clock, deadline, access_log=self.access_log)

    def state_of(self, code: str) -> ServiceState:
        return self.db.subscribers[code].state

    async def offered(self, code: str, fin: str = FIN) -> set[str]:
        """The reasons the form offers after the subscriber-code step (as the dialog asks)."""
        found = await self.journey.check_subscriber(code, fin, USER)
        kind = ApplicationKind.for_state(found.subscriber.state)
        return {r.code for r in await self.journey.reasons(kind)}

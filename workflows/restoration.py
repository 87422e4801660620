"""The way back from a temporary suspension (issue 19, item 6): the restoration offer.

Rules:
- A suspension that is done and has an "until" date (``workflows.until``) is offered a
  restoration :data:`OFFER_LEAD` (three days) before that date, or later if the job could
  not run then: one message to the chat that filed it, in its language, with one button.
  Nothing is filed without the subscriber's press.
- Only while the code is still suspended in the registry and no application is open on it;
  never for an anonymised application, nor for one withdrawn, rejected or reopened (not
  done). A suspension after which another application on the code was done (a restoration,
  a new suspension) is not offered either: that one speaks for the code now.
- Once: the offer is claimed by one conditional UPDATE of ``restoration_offered_at`` in the
  transaction that writes its outbox row (dedupe key ``restore_offer:<number>``), so two
  workers running the job at once send one offer. A suspension whose code is active again,
  or gone from the registry, is marked the same way without a message: there is nothing to
  offer any more. One whose code has an open application waits for the next run.
- The job offers in the daytime only (:data:`OFFER_HOURS`, Baku time), never at night.
- The press (:meth:`Restorations.start`) is taken only from the account that filed the
  suspension (any other gets "not found", exactly like a number that does not exist), while
  the code is still suspended and has no open application. It gives what the form is filled
  with: the code, phone and e-mail of the suspension and the catalogue's first restoration
  reason; the filing itself is ``Journey.submit``, with every check of a typed form (the
  debt, the identity).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from workflows.clock import BAKU
from workflows.errors import (
    ApplicationNotFound,
    DomainError,
    OpenApplicationExists,
    ReasonNotAllowed,
    RegistryUnavailable,
)
from workflows.identity import address_area
from workflows.journey import Journey
from workflows.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    ServiceState,
    Subscriber,
)
from workflows.outbox.records import Channel, OutboxKind
from workflows.planning import baku_today
from workflows.ports import OutboxItem

logger = logging.getLogger(__name__)

OFFER_LEAD = timedelta(days=3)
# Baku hours [from, to) in which offers are made.
OFFER_HOURS = (9, 21)
OFFER_BATCH = 200


class NotSuspended(DomainError):
    """The code is not suspended any more (or not in the registry): nothing to restore."""

    def __init__(self, subscriber_code: str) -> None:
        super().__init__(subscriber_code)
        self.subscriber_code = subscriber_code


class CodeBusy(OpenApplicationExists):
    """An application is open on the code; ``number`` is 0 when the account may not be told
    it."""

    def __init__(self, subscriber_code: str, number: int) -> None:
        super().__init__(number)
        self.subscriber_code = subscriber_code


@dataclass(frozen=True, slots=True)
class RestorationStart:
    """What the restoration form is filled with; ``address`` as the account may see it."""

    suspension: int
    subscriber_code: str
    address: str
    phone: str
    email: str
    reason_code: str


def offer_item(app: Application) -> OutboxItem:
    """The offer's outbox row: to the chat that filed the suspension."""
    return OutboxItem(
        kind=OutboxKind.RESTORE_OFFER,
        channel=Channel.TELEGRAM,
        recipient=str(app.chat_id),
        dedupe_key=f"restore_offer:{app.number}",
        application_number=app.number,
    )


def _offerable(app: Application | None) -> bool:
    """A done suspension of a known account, with an "until" date."""
    return (
        app is not None
        and app.kind is ApplicationKind.SUSPEND
        and app.status is ApplicationStatus.DONE
        and app.suspend_until is not None
        and app.anonymised_at is None
        and app.telegram_user_id != 0
    )


def _suspended(subscriber: Subscriber | None) -> bool:
    return subscriber is not None and subscriber.state is ServiceState.SUSPENDED


@dataclass(slots=True)
class Restorations:
    """The offer job, the check before the offer is sent, and the press."""

    journey: Journey
    hours: tuple[int, int] = OFFER_HOURS
    batch: int = OFFER_BATCH

    # --- the job -------------------------------------------------------------------------
    async def offer_due(self) -> list[int]:
        """Offer what is due now; returns the numbers of the suspensions offered."""
        now = self.journey.clock.now()
        if not self.hours[0] <= now.astimezone(BAKU).hour < self.hours[1]:
            return []
        last_day = (baku_today(now) + OFFER_LEAD).isoformat()
        async with self.journey.transactions.read() as uow:
            due = await uow.applications.restoration_due(last_day, limit=self.batch)
        offered: list[int] = []
        for app in due:
            try:
                subscriber = await self.journey.registry.lookup(app.subscriber_code)
            except RegistryUnavailable:
                logger.warning("restoration offers wait: the registry is not answering")
                break
            needless = not _suspended(subscriber)
            async with self.journey.transactions() as uow:
                busy = await uow.applications.open_number(app.subscriber_code) is not None
                if busy and not needless:
                    continue  # an application is open on the code: the next run looks again
                if not await uow.applications.claim_restoration_offer(app.number, now):
                    continue  # another worker took it
                if not needless:
                    await uow.outbox.enqueue(offer_item(app), now)
                await uow.commit()
            if needless:
                logger.info("restoration offer for %s not needed: not suspended", app.number)
            else:
                offered.append(app.number)
        if offered:
            logger.info("restoration offered for %d suspensions: %s", len(offered), offered)
        return offered

    # --- the sender's check ------------------------------------------------------------
    async def still_wanted(self, number: int) -> Application | None:
        """The suspension, if its offer should still go out now: the code is still suspended
        and has no open application; None otherwise. RegistryUnavailable when the registry
        does not answer."""
        async with self.journey.transactions.read() as uow:
            app = await uow.applications.get(number)
            if app is None or not _offerable(app):
                return None
            if await uow.applications.open_number(app.subscriber_code) is not None:
                return None
        subscriber = await self.journey.registry.lookup(app.subscriber_code)
        return app if _suspended(subscriber) else None

    # --- the press -----------------------------------------------------------------------
    async def start(self, account: int, number: int) -> RestorationStart:
        """The filled-in restoration form for the offer of suspension ``number``.

        ApplicationNotFound unless ``account`` filed that suspension; NotSuspended,
        CodeBusy (an open application: its number when the account may see it, else 0),
        RegistryUnavailable, or ReasonNotAllowed (no restoration reason is active)."""
        async with self.journey.transactions.read() as uow:
            app = await uow.applications.get(number)
        if app is None or not _offerable(app) or app.telegram_user_id != account:
            raise ApplicationNotFound(number)
        code = app.subscriber_code
        subscriber = await self.journey.registry.lookup(code)
        if subscriber is None or not _suspended(subscriber):
            raise NotSuspended(code)
        viewer = await self.journey.viewer(account)
        async with self.journey.transactions.read() as uow:
            open_number = await uow.applications.open_number(code)
            if open_number is not None:
                found = await uow.applications.get(open_number)
                visible = found is not None and viewer.may_see(found)
                raise CodeBusy(code, open_number if visible else 0)
        reasons = await self.journey.reasons(ApplicationKind.RESTORE)
        if not reasons:
            raise ReasonNotAllowed("")
        disclosed = viewer.owns(subscriber.owner_fin)
        return RestorationStart(
            suspension=app.number,
            subscriber_code=code,
            address=subscriber.address if disclosed else address_area(subscriber.address),
            phone=app.phone,
            email=app.email,
            reason_code=reasons[0].code,
        )

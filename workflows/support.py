"""The support agents' use cases: look any application up, list open orders, count.

Rules:
- Agents read everything; they change nothing here, so every call is a read, and leaves a
  trace: one row of the access log (agent, command, what was looked up, when), written
  before the answer is read (a log that cannot be written: no answer).
- A FIN is shown masked (``7KQ•••X``) and kept in the access log masked, with a digest
  (``fin_lookup``): an auditor finds every look-up of a FIN from the whole FIN, and the
  database holds no FIN that an erasure would have to find there.
- ``/find`` takes a subscriber code (digits) or a FIN; seven digits may be either, so both
  are searched.
- An open order is overdue once past its due time (its reason's deadline from registration;
  without one, the work-order deadline, a setting); a done order was on time when it was
  done by then. ``/stats`` gives the share done on time by reason.
- "Today" is the calendar day in Baku; "the last 7 days" are today and the six days before.
- The time to complete is registration -> done (rejections are not completions), over the
  orders completed in the last ``COMPLETION_WINDOW``; median and 90th percentile are
  interpolated between the nearest observations.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from workflows.clock import BAKU
from workflows.errors import ApplicationNotFound
from workflows.models import Application, ApplicationStatus, Event, EventKind, Reason
from workflows.ports import AccessLog, AgentLookup, ApplicationFile, Clock, SupportQueries
from workflows.values import FIN_RE, InvalidFin, mask_fin, parse_fin

COMPLETION_WINDOW = timedelta(days=30)
FIND_LIMIT = 200
OPEN_LIMIT = 500

# The access log's commands (the agent's command, as typed without the slash).
STATUS, FIND, OPEN, STATS = "status", "find", "open", "stats"

# A search argument longer than this is refused before any parsing.
SEARCH_MAX_INPUT = 64
# /stats averages the subscribers' ratings over this window.
RATING_WINDOW = timedelta(days=30)
SUBSCRIBER_CODE_RE = re.compile(r"\d{1,32}", re.ASCII)


# --- records ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Found:
    """Applications matching a search, newest first; ``total`` counts beyond the limit."""

    term: SearchTerm
    applications: tuple[Application, ...]
    total: int


@dataclass(frozen=True, slots=True)
class OpenOrder:
    application: Application
    age: timedelta
    overdue: bool


@dataclass(frozen=True, slots=True)
class OpenOrders:
    """Open orders, oldest first; ``total`` counts beyond the limit."""

    orders: tuple[OpenOrder, ...]
    total: int
    deadline: timedelta


@dataclass(frozen=True, slots=True)
class OnTime:
    """Of the orders of one reason done in the window, how many were done by their due time."""

    reason_code: str
    done: int
    on_time: int

    @property
    def percent(self) -> int:
        return round(100 * self.on_time / self.done) if self.done else 0


@dataclass(frozen=True, slots=True)
class RatingAverage:
    """The average of ``count`` ratings of one reason (``reason`` set) or staff member."""

    key: str
    average: float
    count: int
    reason: Reason | None = None


def rating_averages(
    pairs: Sequence[tuple[str, int]], reasons: Mapping[str, Reason] | None = None
) -> tuple[RatingAverage, ...]:
    """Averages by key, the most rated first."""
    totals: dict[str, list[int]] = {}
    for key, rating in pairs:
        totals.setdefault(key, []).append(rating)
    averages = [
        RatingAverage(
            key=key,
            average=sum(values) / len(values),
            count=len(values),
            reason=(reasons or {}).get(key),
        )
        for key, values in totals.items()
    ]
    return tuple(sorted(averages, key=lambda a: (-a.count, a.key)))


@dataclass(frozen=True, slots=True)
class Stats:
    by_status: Mapping[ApplicationStatus, int]
    registered_today: int
    registered_last_7_days: int
    completed_in_window: int
    completion_window: timedelta
    median_completion: timedelta | None
    p90_completion: timedelta | None
    # by reason, in the catalogue's order (reasons no longer listed at the end)
    on_time: tuple[OnTime, ...] = ()
    # The subscribers' ratings of the last RATING_WINDOW (issue 19): by reason, by staff.
    ratings_by_reason: tuple[RatingAverage, ...] = ()
    ratings_by_staff: tuple[RatingAverage, ...] = ()
    rating_window: timedelta = timedelta(days=30)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def open(self) -> int:
        return sum(n for status, n in self.by_status.items() if status.is_open)


@dataclass(frozen=True, slots=True)
class Gauges:
    """What /metrics shows of the applications: every status and every event kind, zeros
    included."""

    by_status: Mapping[ApplicationStatus, int]
    by_event: Mapping[EventKind, int]


class InvalidSearch(ValueError):
    """The ``/find`` argument is neither a subscriber code nor a FIN."""


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """What ``/find`` looks for: a subscriber code, a FIN, or both (seven digits)."""

    subscriber_code: str | None = None
    fin: str | None = None

    @classmethod
    def parse(cls, text: str) -> SearchTerm:
        if len(text) > SEARCH_MAX_INPUT:
            raise InvalidSearch("too long")
        value = "".join(text.split())
        if SUBSCRIBER_CODE_RE.fullmatch(value):
            return cls(subscriber_code=value, fin=value if FIN_RE.fullmatch(value) else None)
        try:
            return cls(fin=parse_fin(value))
        except InvalidFin as exc:
            raise InvalidSearch(exc.code) from exc

    @property
    def key(self) -> str:
        """The normalised argument: ``parse(key)`` gives this term back."""
        return self.subscriber_code or self.fin or ""

    @property
    def shown(self) -> str:
        """How the term may be shown: a FIN is masked."""
        return self.subscriber_code or mask_fin(self.fin or "")

    @property
    def logged(self) -> str:
        """How the access log keeps the term: the code, or (seven digits included, which may
        be a FIN) the FIN masked with its digest."""
        return fin_lookup(self.fin) if self.fin else self.subscriber_code or ""


def fin_lookup(fin: str) -> str:
    """A FIN as the access log keeps it: ``"7KQ•••X #<16 hex digits>"``. The digest lets an
    auditor who holds the whole FIN find its look-ups (``WHERE query = fin_lookup(FIN)``);
    it is a pseudonym, not an anonymisation (a FIN has few enough values to be guessed)."""
    digest = hashlib.sha256(f"fin:{fin}".encode()).hexdigest()[:16]
    return f"{mask_fin(fin)} #{digest}"


def describe_actor(actor: str) -> tuple[str, str | None]:
    """Split an event's actor: ``("staff", name)``, ``("subscriber", None)``, ``("system", None)``.

    Actors are written as ``staff:<user id>:<name>``, ``tg:<user id>`` and ``system``.
    """
    if actor.startswith("staff:"):
        parts = actor.split(":", 2)
        return "staff", (parts[2] or None) if len(parts) == 3 else None
    if actor.startswith("tg:"):
        return "subscriber", None
    return "system", None


def percentile(values: Sequence[timedelta], q: float) -> timedelta | None:
    """The q-quantile (0..1) with linear interpolation between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def start_of_day(moment: datetime, zone: tzinfo = BAKU) -> datetime:
    """Midnight of ``moment``'s calendar day in ``zone``, as an aware datetime."""
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


# --- the use case -------------------------------------------------------------------------
@dataclass(slots=True)
class Support:
    """Everything an agent can ask, each look-up logged first as ``agent``'s; the time comes
    from ``clock``."""

    queries: SupportQueries
    clock: Clock
    deadline: timedelta
    zone: tzinfo = BAKU
    access_log: AccessLog = field(kw_only=True)

    async def _logged(self, agent: int, command: str, query: str = "") -> None:
        await self.access_log.record(AgentLookup(self.clock.now(), agent, command, query))

    async def application(self, number: int, *, agent: int) -> ApplicationFile:
        """The application with its history, deliveries and the verifications of its FIN."""
        await self._logged(agent, STATUS, str(number))
        found = await self.queries.get_application_file(number)
        if found is None:
            raise ApplicationNotFound(number)
        return found

    async def photos(self, number: int) -> list[Event]:
        """The events of an application that carry a photo (Done's proof), oldest first;
        shown after ``/status`` (already logged there), never in the e-mail."""
        found = await self.queries.get_application_file(number)
        if found is None:
            return []
        return [e for e in found.application.events if e.photo_file_id]

    async def reasons(self) -> dict[str, Reason]:
        """The reason catalogue by code, for showing an application's reason."""
        return {reason.code: reason for reason in await self.queries.reasons()}

    async def find(self, term: SearchTerm, *, agent: int, limit: int = FIND_LIMIT) -> Found:
        await self._logged(agent, FIND, term.logged)
        apps = await self.queries.find_applications(
            subscriber_code=term.subscriber_code, fin=term.fin, limit=limit
        )
        total = len(apps)
        if total >= limit:
            total = await self.queries.count_applications(
                subscriber_code=term.subscriber_code, fin=term.fin
            )
        return Found(term=term, applications=tuple(apps), total=total)

    async def open_orders(self, *, agent: int, limit: int = OPEN_LIMIT) -> OpenOrders:
        """The open orders (their subscriber codes, no person): logged all the same."""
        await self._logged(agent, OPEN)
        now = self.clock.now()
        apps = await self.queries.open_applications(limit=limit)
        total = len(apps)
        if total >= limit:
            counts = await self.queries.count_by_status()
            total = sum(n for status, n in counts.items() if status.is_open)
        orders = tuple(
            OpenOrder(
                application=app,
                age=max(now - app.created_at, timedelta(0)),
                overdue=now > self.due(app.created_at, app.due_at),
            )
            for app in apps
        )
        return OpenOrders(orders=orders, total=total, deadline=self.deadline)

    async def stats(self, *, agent: int, window: timedelta = COMPLETION_WINDOW) -> Stats:
        """Counts only (no person): logged all the same, so the log shows every command."""
        await self._logged(agent, STATS)
        now = self.clock.now()
        today = start_of_day(now, self.zone)
        # Same-zone arithmetic is wall-clock arithmetic: midnight six days ago.
        week = today - timedelta(days=6)
        counts = await self.queries.count_by_status()
        durations = await self.queries.completion_durations(now - window)
        on_time = await self._on_time(now - window)
        rated = await self.queries.ratings_since(now - RATING_WINDOW)
        reasons = {r.code: r for r in await self.queries.reasons()} if rated else {}
        return Stats(
            ratings_by_reason=rating_averages([(code, r) for code, _n, r in rated], reasons),
            ratings_by_staff=rating_averages([(name, r) for _c, name, r in rated]),
            rating_window=RATING_WINDOW,
            by_status={status: counts.get(status, 0) for status in ApplicationStatus},
            registered_today=await self.queries.count_registered_since(today),
            registered_last_7_days=await self.queries.count_registered_since(week),
            completed_in_window=len(durations),
            completion_window=window,
            median_completion=percentile(durations, 0.5),
            p90_completion=percentile(durations, 0.9),
            on_time=on_time,
        )

    async def gauges(self) -> Gauges:
        """Counts only, for the operator's /metrics: no agent asks, so nothing is logged."""
        statuses = await self.queries.count_by_status()
        kinds = await self.queries.count_events_by_kind()
        return Gauges(
            by_status={status: statuses.get(status, 0) for status in ApplicationStatus},
            by_event={kind: kinds.get(kind.value, 0) for kind in EventKind},
        )

    def due(self, created_at: datetime, due_at: datetime | None) -> datetime:
        """An order's due time: its own, else registration + the global deadline."""
        return due_at if due_at is not None else created_at + self.deadline

    async def _on_time(self, since: datetime) -> tuple[OnTime, ...]:
        counts: dict[str, list[int]] = {}
        for done in await self.queries.completions(since):
            tally = counts.setdefault(done.reason_code, [0, 0])
            tally[0] += 1
            tally[1] += done.closed_at <= self.due(done.created_at, done.due_at)
        order = {r.code: i for i, r in enumerate(await self.queries.reasons())}
        codes = sorted(counts, key=lambda code: (order.get(code, len(order)), code))
        return tuple(OnTime(code, *counts[code]) for code in codes)

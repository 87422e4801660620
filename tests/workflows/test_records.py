"""The small records the use cases share: a reason's label, the clocks, a mail failure."""

from __future__ import annotations

from datetime import UTC, timedelta

from tests.workflows.world import START
from workflows.clock import FixedClock, SystemClock
from workflows.models import ApplicationKind, Reason
from workflows.ports import MailError


def test_a_reason_is_labelled_in_the_language_asked_for_or_else_in_azerbaijani() -> None:
    reason = Reason(
        code="absence",
        kind=ApplicationKind.SUSPEND,
        labels={"az": "Müvəqqəti olmama", "ru": "Временное отсутствие", "en": ""},
    )

    assert reason.label("ru") == "Временное отсутствие"
    assert reason.label("en") == "Müvəqqəti olmama"  # an empty label falls back
    assert reason.label("de") == "Müvəqqəti olmama"


def test_a_reason_without_labels_is_shown_by_its_code() -> None:
    reason = Reason(code="meter_fitted", kind=ApplicationKind.RESTORE, labels={"en": "Fitted"})

    assert reason.label("en") == "Fitted"
    assert reason.label("ru") == "meter_fitted"


def test_the_system_clock_tells_aware_utc_time() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_a_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(START)
    assert clock.now() == clock.now() == START
    clock.advance(timedelta(minutes=1))
    assert clock.now() == START + timedelta(minutes=1)


def test_a_mail_failure_is_temporary_unless_said_otherwise() -> None:
    assert MailError("4.3.0 try later").permanent is False
    refused = MailError("5.1.1 no such user", permanent=True)
    assert (refused.permanent, str(refused)) == (True, "5.1.1 no such user")

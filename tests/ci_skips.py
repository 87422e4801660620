"""Under ``CI=true`` a skipped PostgreSQL, Redis or browser test is a failure.

Locally those tests skip cleanly when TEST_DATABASE_URL, TEST_REDIS_URL or Chromium is
missing; on CI the same skip would leave the build green with the test never run. A test
says what it needs with a marker (``postgres``, ``redis``, ``browser``, on the test, its
module's ``pytestmark`` or a ``pytest.param``), and skips the ordinary way; this plugin
turns such a skip into a failure when ``CI`` is ``true``. Loaded by ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

SERVICES = {
    "postgres": "PostgreSQL (TEST_DATABASE_URL)",
    "redis": "Redis (TEST_REDIS_URL)",
    "browser": "Chromium for Playwright",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in SERVICES.items():
        config.addinivalue_line(
            "markers", f"{name}: needs {what}; under CI=true its skip is a failure"
        )


def _reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    if os.environ.get("CI") != "true":
        return
    needs = [name for name in SERVICES if item.get_closest_marker(name) is not None]
    if needs:
        report.outcome = "failed"
        report.longrepr = (
            f"CI=true: this test needs {', '.join(SERVICES[n] for n in needs)} "
            f"and was skipped: {_reason(report)}"
        )

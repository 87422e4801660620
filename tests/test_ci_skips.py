"""The conftest hook of ``tests/ci_skips.py``: under CI=true a skipped PostgreSQL, Redis or
browser test fails; locally, and for any other skip, a skip stays a skip."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER = """
import pytest

@pytest.mark.postgres
def test_postgres():
    pytest.skip("TEST_DATABASE_URL is not set")

@pytest.mark.redis
@pytest.mark.skipif(True, reason="TEST_REDIS_URL is not set")
def test_redis():
    pass

@pytest.mark.parametrize(
    "db", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.skip])]
)
def test_both(db):
    pass

@pytest.mark.browser
def test_browser():
    pytest.importorskip("no_such_playwright_module")

def test_something_else():
    pytest.skip("not a service")

@pytest.mark.postgres
@pytest.mark.xfail(reason="known")
def test_expected_failure():
    raise AssertionError
"""


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_inprocess(
        "-p",
        "tests.ci_skips",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:asyncio",
        "-rA",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    )


def test_under_ci_a_skipped_service_test_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_inner=INNER)
    monkeypatch.setenv("CI", "true")

    result = run(pytester)

    # a skip in the call fails the test; a skip mark (in the setup) is an error: both red
    result.assert_outcomes(passed=1, failed=2, errors=2, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "ERROR *test_redis - CI=true: this test needs Redis (TEST_REDIS_URL) and was *",
            "ERROR *test_both?postgresql? - CI=true: this test needs PostgreSQL*",
            "FAILED *test_postgres - CI=true: this test needs PostgreSQL (TEST_DATABASE_URL)"
            " and was skipped: Skipped: TEST_DATABASE_URL is not set",
            "FAILED *test_browser - CI=true: this test needs Chromium for Playwright and was *",
        ]
    )


@pytest.mark.parametrize("ci", [None, "false", "1"])
def test_elsewhere_a_skip_stays_a_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    pytester.makepyfile(test_inner=INNER)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)

    result = run(pytester)

    result.assert_outcomes(passed=1, skipped=5, xfailed=1)
    assert result.ret == pytest.ExitCode.OK

"""Secrets in settings, log lines and errors (issue 17, item 5); the real process is checked
in tests/e2e/test_e2e_secrets.py."""

from __future__ import annotations

import logging
import sys

import pytest
from asyncpg.exceptions import NotNullViolationError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from bot.config import Settings, describe_error, safe_url
from bot.main import RedactingFormatter, configure_logging

PASSWORD = "S3cr3t-pw-XYZ"
DATABASE_URL = f"postgresql+asyncpg://azersu:{PASSWORD}@db:5432/azersu"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (DATABASE_URL, "postgresql+asyncpg://azersu:***@db:5432/azersu"),
        ("redis://:pw%40rd@redis:6379/0", "redis://:***@redis:6379/0"),
        ("https://billing.example/api?key=abc#x", "https://billing.example/api?…"),
        ("sqlite+aiosqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("http://[::1", "***"),
        ("no scheme:pw@host", "***"),
    ],
)
def test_safe_url(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_secret_values_cover_every_secret_setting() -> None:
    settings = Settings(
        _env_file=None,
        BOT_TOKEN="42:bot-token",
        STAFF_CHAT_ID="-1",
        DATABASE_URL="postgresql+asyncpg://u:pa%40ss-db@h/db",
        REDIS_URL="redis://:redis-pw@h:6379/0",
        BILLING_API_URL="https://u:billing-pw@h/api",
        BILLING_API_TOKEN="billing-token",
        SMTP_PASSWORD="smtp-pw",
        WEBHOOK_URL="https://x.example/hook",
        WEBHOOK_SECRET="hook-secret",
        METRICS_TOKEN="metrics-token-0123",
    )
    assert settings.secret_values() == {
        "metrics-token-0123",
        "42:bot-token",
        "pa%40ss-db",
        "pa@ss-db",
        "redis-pw",
        "billing-pw",
        "billing-token",
        "smtp-pw",
        "hook-secret",
    }
    # Secrets too short to look for without masking ordinary words are left out.
    assert Settings(_env_file=None, SMTP_PASSWORD="abc").secret_values() == set()


def test_a_validation_error_never_repeats_the_input() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, BOT_TOKEN="1:x", DATABASE_URL=DATABASE_URL)
    assert PASSWORD not in str(info.value)
    assert "STAFF_CHAT_ID" in describe_error(info.value)


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"DATABASE_URL": f"not a url {PASSWORD}"}, "DATABASE_URL"),
        ({"DATABASE_URL": f"postgresql://u:{PASSWORD}@h:port/db"}, "DATABASE_URL"),
        ({"REDIS_URL": f"http://:{PASSWORD}@h/0"}, "REDIS_URL"),
    ],
)
def test_a_malformed_url_is_named_without_its_password(env: dict[str, str], name: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, **env)
    line = describe_error(info.value)
    assert name in line and PASSWORD not in line and PASSWORD not in str(info.value)


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("x", logging.ERROR, __file__, 1, message, args, exc_info)


def test_the_formatter_masks_secrets_in_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", {PASSWORD, f"{PASSWORD}-longer"})
    try:
        raise ConnectionError(f"cannot connect to {DATABASE_URL}")
    except ConnectionError as exc:
        text = formatter.format(record("connecting with %s", f"{PASSWORD}-longer", exc=exc))
    assert PASSWORD not in text
    assert text.startswith("connecting with ***\n")
    assert "cannot connect to postgresql+asyncpg://azersu:***@db:5432/azersu" in text


ROW = ("5ABC12D", "+994501234567", "secret.person@example.com")


def postgres_integrity_error() -> IntegrityError:
    """What SQLAlchemy raises for a NOT NULL violation on PostgreSQL: the engine hides the
    parameters, the server's DETAIL still quotes the row."""
    orig = NotNullViolationError.new(
        {
            "M": 'null value in column "kind" of relation "applications" violates not-null '
            "constraint",
            "D": f"Failing row contains (7, null, {', '.join(ROW)}).",
            "C": "23502",
        }
    )
    statement = "INSERT INTO applications (fin, phone, email) VALUES ($1, $2, $3)"
    return IntegrityError(statement, ROW, orig, hide_parameters=True)


def test_a_database_error_is_logged_without_the_row_it_quotes() -> None:
    formatter = RedactingFormatter("%(message)s", ())
    error = postgres_integrity_error()
    assert all(value in str(error) for value in ROW)  # what the formatter has to hide
    try:
        try:
            raise error.orig  # type: ignore[misc]
        except NotNullViolationError as orig:
            raise error from orig
    except IntegrityError as exc:
        traceback = formatter.format(record("outbox attempt crashed", exc=exc))
        as_repr = formatter.format(record("task ended with %r", exc))
    for text in (traceback, as_repr):
        leaked = [value for value in ROW if value in text]
        assert not leaked, text
    assert "DETAIL: ***" in traceback
    assert "[SQL: INSERT INTO applications (fin, phone, email) VALUES ($1, $2, $3)]" in traceback
    assert "NotNullViolationError" in traceback  # the cause is still named


def test_an_argument_asyncpg_refuses_is_not_quoted() -> None:
    formatter = RedactingFormatter("%(message)s", ())
    message = "invalid input for query argument $2: '+994501234567' (expected int)"
    assert formatter.format(record(message)) == "invalid input for query argument $2: ***"


def test_an_uncaught_exception_goes_through_the_formatter(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    configure_logging("INFO", {PASSWORD})
    try:
        raise OSError(f"password {PASSWORD} refused")
    except OSError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "CRITICAL bot.main: stopped by an unexpected error" in err
    assert "OSError: password *** refused" in err
    assert PASSWORD not in err
    for handler in root.handlers:
        handler.close()

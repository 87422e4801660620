"""The databases a storage test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL
names a server (``.ci/run`` sets it); a fixture with ``params=SQLITE_AND_POSTGRES`` gives each
of its tests both."""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("TEST_DATABASE_URL", "")

SQLITE_AND_POSTGRES = (
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set"),
        ],
    ),
)

"""A worker's name in the leases: stable across restarts, never shared by two live
processes on one host (an flock per name and database, which a dead process drops)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import build_outbox_runner
from bot.config import Settings
from bot.outbox.worker import claim_worker, default_worker_id, host_name
from tests.outbox.harness import Harness
from workflows.outbox.records import Channel


def test_the_default_name_is_the_host_and_the_port_or_main() -> None:
    assert default_worker_id(8001) == f"{host_name()}:8001"
    assert default_worker_id(None) == f"{host_name()}:main"
    assert len(host_name()) <= 24 and host_name() == host_name().lower()


def test_worker_id_is_checked_and_lower_case() -> None:
    assert Settings(WORKER_ID=" Bot-1 ", _env_file=None).worker_id == "bot-1"
    for bad in ("a#b", "x" * 41, "-leading", "with space"):
        with pytest.raises(ValidationError):
            Settings(WORKER_ID=bad, _env_file=None)


def test_a_name_is_held_by_one_live_process_per_database(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    other_db = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    first = claim_worker("bot-1", db, tmp_path)
    # A second process (another open file: flock is per open file) with the same name
    # and database runs under a name of its own; with another database it keeps the name.
    second = claim_worker("bot-1", db, tmp_path)
    elsewhere = claim_worker("bot-1", other_db, tmp_path)
    try:
        assert first.name == "bot-1" and first.lock is not None
        assert second.name != "bot-1" and second.lock is None
        assert second.name.startswith(f"{host_name()}:")
        assert elsewhere.name == "bot-1"
        # The same file by another spelling of its path is the same database.
        relative = claim_worker("bot-1", db.replace(str(tmp_path), str(tmp_path / ".")), tmp_path)
        assert relative.name != "bot-1"
    finally:
        first.release()
        elsewhere.release()
    # Once the holder is gone (its process ended: the kernel drops the lock), a restarted
    # process gets the name back.
    again = claim_worker("bot-1", db, tmp_path)
    assert again.name == "bot-1"
    again.release()


def test_the_runner_leases_under_the_worker_name(h: Harness) -> None:
    polling = build_outbox_runner(h.settings, h.services, h.bot, h.i18n)
    webhook_settings = h.settings.model_copy(
        update={"webhook_url": "https://bot.example/hook", "listen_port": 8123}
    )
    webhook = build_outbox_runner(webhook_settings, h.services, h.bot, h.i18n)
    named = build_outbox_runner(
        h.settings.model_copy(update={"worker_id": "bot-2"}), h.services, h.bot, h.i18n
    )
    try:
        assert polling.lane(Channel.TELEGRAM).owner == f"{host_name()}:main/tg"
        assert webhook.lane(Channel.EMAIL).owner == f"{host_name()}:8123/mail"
        assert named.lane(Channel.TELEGRAM).owner == "bot-2/tg"
        # The lease is the setting's (30 s by default).
        assert polling.lane(Channel.TELEGRAM).lease.total_seconds() == h.settings.outbox_lease_s
        # Started twice on one host and database, the name is not shared.
        twice = build_outbox_runner(h.settings, h.services, h.bot, h.i18n)
        assert twice.lane(Channel.TELEGRAM).owner != f"{host_name()}:main/tg"
    finally:
        for runner in (polling, webhook, named):
            assert runner.worker is not None
            runner.worker.release()

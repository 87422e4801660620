"""Which worker this process is, in the outbox's leases.

A worker's name (``WORKER_ID``; by default ``<host>:<LISTEN_PORT>`` in webhook mode and
``<host>:main`` when polling) stays the same across restarts, so a worker started again
after a crash takes back at once the rows its previous run had leased (and the lead of the
Telegram lane): see :mod:`workflows.outbox.leases`.

Two live processes must never share a name: the second would take the first one's rows
while they are being sent. Between hosts the host name tells them apart (an explicit
``WORKER_ID`` must be unique per worker). On one host the name is held by an exclusive
``flock`` on a file named after it and the database, which the kernel releases when the
process ends, even by SIGKILL: a restarted worker finds it free; a second process with the
same name and database finds it taken and runs under a name of its own (host, pid, random
part; its rows are freed by their lease alone after a crash) with a warning. Processes
with different databases (the sandbox and the tests on one machine) never collide.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # not on Windows: no guard there
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

_NOT_ALLOWED = re.compile(r"[^a-z0-9.-]+")


def host_name() -> str:
    """This host's name as a worker name's first part: lower case, at most 24 characters."""
    host = _NOT_ALLOWED.sub("-", socket.gethostname().lower()).strip("-.")
    return host[:24] or "host"


def default_worker_id(listen_port: int | None) -> str:
    """``<host>:<port>`` for a webhook worker (one per port), ``<host>:main`` when polling."""
    return f"{host_name()}:{listen_port if listen_port is not None else 'main'}"


def process_name() -> str:
    """A name of this process alone (host, pid, a random part): nothing to take back."""
    return f"{host_name()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Worker:
    """The name this process leases under, and the lock that keeps it its own."""

    name: str
    lock: IO[bytes] | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database or "").resolve()
    return None


def lock_path(worker_id: str, database_url: str, directory: Path | None = None) -> Path:
    """The lock file of ``worker_id`` on this database: next to a SQLite file (where the
    database's own files are), else in the temporary directory."""
    sqlite = _sqlite_file(database_url)
    database = f"sqlite:{sqlite}" if sqlite else make_url(database_url).render_as_string()
    digest = hashlib.sha256(f"{database}\0{worker_id}".encode()).hexdigest()[:20]
    where = directory or (sqlite.parent if sqlite else Path(tempfile.gettempdir()))
    return where / f".outbox-worker-{digest}.lock"


def claim_worker(worker_id: str, database_url: str, directory: Path | None = None) -> Worker:
    """``worker_id`` with its lock held, or a name of this process alone when another live
    process on this host holds it (for the same database)."""
    if fcntl is None:
        return Worker(worker_id)
    path = lock_path(worker_id, database_url, directory)
    try:
        handle = path.open("ab")
    except OSError as exc:
        name = process_name()
        logger.warning("outbox: cannot lock %s (%s); leasing as %s", path, exc, name)
        return Worker(name)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        name = process_name()
        logger.warning(
            "outbox: worker id %s is in use by another process on this host with the same "
            "database; this one leases as %s (set a WORKER_ID of its own)",
            worker_id,
            name,
        )
        return Worker(name)
    return Worker(worker_id, handle)

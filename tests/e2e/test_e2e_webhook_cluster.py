"""Production shape: two webhook workers on one PostgreSQL and one Redis, behind a balancer.

Two real ``python bot.py run`` processes in webhook mode (WEBHOOK_SET=false) share a fresh
PostgreSQL database and a Redis db; the sandbox (in this process) delivers the
webhook to a round-robin balancer run here, which forwards each update, with the secret
header, to worker 1, 2, 1, 2 ... and remembers who got what. Scenarios (issue 5):

* a subscriber's consecutive updates land on both workers, and one who starts the form on
  worker 1 finishes it on worker 2 (the dialog state lives in Redis);
* 200 subscribers registering at once, spread over both workers, get 200 distinct numbers;
* every application's staff card is posted exactly once (both workers run the outbox);
* one update delivered to both workers at once is answered once (issue 17: every update
  once, the record in the shared Redis).

Each worker serves /healthz and /metrics on a metrics listener of its own (METRICS_PORT),
never on its webhook port.

Runs when TEST_DATABASE_URL (postgresql+asyncpg://…) and TEST_REDIS_URL are set; locally
``postgresql+asyncpg://postgres@127.0.0.1:5432/test`` and ``redis://127.0.0.1:6379/15``.
The staff group's send limits are raised for the workers: the sandbox does not rate-limit,
and at Telegram's 20 messages a minute 200 cards take ten minutes.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import os
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy.engine import make_url

from sandbox.server import SandboxServer
from tests.e2e.harness import (
    BOT_PY,
    FIN_PROMPT,
    START_TIMEOUT,
    Chat,
    Proc,
    Telegram,
    apoll_until,
    bot_env,
    card_numbers,
    free_port,
    has_text,
    register,
    run_bot_command,
    shown,
)
from tests.support import delete_redis_keys, run_scoped_name

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not (PG_URL.startswith("postgresql+asyncpg://") and REDIS_URL),
        reason="needs TEST_DATABASE_URL (postgresql+asyncpg://...) and TEST_REDIS_URL",
    ),
    pytest.mark.asyncio(loop_scope="module"),
]

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
STAFF_IDS = "620000001,620000002"
USERS = 200
CONCURRENCY = 40
STEP_TIMEOUT = 60.0  # 40 subscribers in flight on a shared CI machine
FIRST_CODE = 2_000_001
NO_CARD_AT_ALL_S = 30.0
UPDATE_FAILED = re.compile(r"bot\.webhook: update \d+ failed")


def user_of(update: dict[str, Any]) -> int | None:
    for kind in ("message", "callback_query", "edited_message"):
        sender = (update.get(kind) or {}).get("from")
        if sender:
            return int(sender["id"])
    return None


class RoundRobin:
    """An HTTP load balancer for the webhook: worker 1, 2, 1, 2 ... unless a user is pinned."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.routes: list[tuple[int, int | None, int]] = []  # (update_id, user_id, worker)
        self.pins: dict[int, int] = {}
        self.mirrored: set[int] = set()  # users whose updates go to every worker at once
        self.failures: list[str] = []
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, self.forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self.url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def workers_of(self, user_id: int) -> list[int]:
        return [worker for _, user, worker in self.routes if user == user_id]

    async def forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        update = json.loads(body)
        user = user_of(update)
        if user is not None and user in self.pins:
            worker = self.pins[user]
        else:
            worker = next(self._turn) % len(self.targets)
        headers = {"Content-Type": "application/json"}
        if SECRET_HEADER in request.headers:
            headers[SECRET_HEADER] = request.headers[SECRET_HEADER]
        if user in self.mirrored:
            answers = await asyncio.gather(
                *(self._post(w, update, body, headers) for w in range(len(self.targets)))
            )
            return answers[0]
        return await self._post(worker, update, body, headers)

    async def _post(
        self, worker: int, update: dict[str, Any], body: bytes, headers: dict[str, str]
    ) -> web.Response:
        assert self._session is not None
        self.routes.append((int(update.get("update_id", -1)), user_of(update), worker))
        try:
            async with self._session.post(self.targets[worker], data=body, headers=headers) as r:
                payload = await r.read()
                return web.Response(status=r.status, body=payload, content_type=r.content_type)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures.append(f"worker {worker + 1}: {type(exc).__name__}: {exc}")
            return web.Response(status=502, text="worker unreachable")


@dataclass
class Cluster:
    server: SandboxServer
    tg: Telegram
    lb: RoundRobin
    workers: list[Proc]
    db_url: str
    metrics_ports: list[int]
    webhook_ports: list[int]
    numbers: dict[int, int] = field(default_factory=dict)  # user id -> application number

    def logs(self) -> str:
        return "\n".join(w.tail(30) for w in self.workers)


def write_registry(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            ["subscriber_code", "owner_fin", "meterless", "debt_azn", "service_state", "address"]
        )
        for i in range(count):
            # The registry names the applicant's FIN as owner (issue 16): the first codes are
            # the default FIN's, the crowd's each its own user's (see the 200 registrations).
            owner = "5ABC12D" if i < 10 else crowd_fin(820000 + i - 10)
            out.writerow(
                [FIRST_CODE + i, owner, "true", "0.00", "active", f"Bakı ş., Test küç. {i + 1}"]
            )


def crowd_fin(user_id: int) -> str:
    return f"8{user_id % 10**6:06d}"


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def admin_dsn_and_url(database: str) -> tuple[str, str]:
    """(asyncpg DSN of TEST_DATABASE_URL, SQLAlchemy URL of ``database`` on that server)."""
    url = make_url(PG_URL)
    return asyncpg_dsn(PG_URL), url.set(database=database).render_as_string(hide_password=False)


def run_bot_id() -> int:
    """The sandbox bot's id for this run: the workers' Redis keys are ``fsm:<bot id>:...``
    (aiogram's key builder), so a bot id of this process's keeps this run's keys apart from
    any other run's on the same Redis db."""
    return int(f"7{os.getpid() % 1_000_000:06d}{secrets.randbelow(1000):03d}")


async def delete_bot_keys(bot_id: int) -> int:
    client = aioredis.from_url(REDIS_URL)
    try:
        return await delete_redis_keys(client, f"fsm:{bot_id}")
    finally:
        await client.aclose()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


async def duplicates_skipped(ports: list[int]) -> float:
    """bot_updates_duplicate_total summed over the workers' metrics listeners."""
    total = 0.0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
        for port in ports:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                total += metric(await resp.text(), "bot_updates_duplicate_total")
    return total


async def healthy(port: int) -> bool:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as resp,
    ):
        return resp.status == 200 and (await resp.json()).get("ok") is True


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    tmp = tmp_path_factory.mktemp("cluster")
    name = run_scoped_name(make_url(PG_URL).database, "e2e")
    bot_id = run_bot_id()
    admin, db_url = admin_dsn_and_url(name)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    workers: list[Proc] = []
    lb: RoundRobin | None = None
    server = SandboxServer(
        api_port=0, web_port=0, mail_dir=tmp / "mail", token=f"{bot_id}:CLUSTER"
    )
    try:
        assert await delete_bot_keys(bot_id) == 0  # nobody else's keys under this bot id
        await server.start()
        secret = secrets.token_urlsafe(24)
        common = {
            "BOT_TOKEN": server.token,
            "TELEGRAM_API_URL": server.api_url,
            "STAFF_CHAT_ID": server.staff_chat_id,
            "STAFF_USER_IDS": STAFF_IDS,
            "DATABASE_URL": db_url,
            "REDIS_URL": REDIS_URL,
            "MAIL_DIR": tmp / "mail",
            "WEBHOOK_SECRET": secret,
            "WEBHOOK_SET": "false",
            "LISTEN_HOST": "127.0.0.1",
            "OUTBOX_PER_CHAT_PER_SECOND": 100,
            "OUTBOX_PER_GROUP_PER_MINUTE": 100_000,
            "OUTBOX_GLOBAL_PER_SECOND": 10_000,
        }
        await asyncio.to_thread(run_bot_command, "migrate", env=bot_env(**common), cwd=tmp)
        registry = tmp / "registry.csv"
        write_registry(registry, USERS + 10)
        importing = asyncio.create_task(
            asyncio.to_thread(
                run_bot_command,
                "import-subscribers",
                str(registry),
                env=bot_env(**common),
                cwd=tmp,
            )
        )
        ports = [free_port(), free_port()]
        metrics_ports = [free_port(), free_port()]
        for i, (port, metrics_port) in enumerate(zip(ports, metrics_ports, strict=True), 1):
            env = bot_env(
                **common,
                WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                LISTEN_PORT=port,
                METRICS_PORT=metrics_port,
            )
            workers.append(
                Proc.start(f"worker{i}", [sys.executable, str(BOT_PY), "run"], env=env, cwd=tmp)
            )
        await importing
        for port, worker in zip(metrics_ports, workers, strict=True):
            await apoll_until(
                lambda port=port: healthy(port),
                timeout=START_TIMEOUT,
                what=f"{worker.name} /healthz",
                procs=workers,
            )
        lb = RoundRobin([f"http://127.0.0.1:{port}{WEBHOOK_PATH}" for port in ports])
        await lb.start()
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.api_url}/bot{server.token}/setWebhook",
                json={"url": lb.url, "secret_token": secret},
            ) as resp,
        ):
            answer = await resp.json()
        assert answer.get("ok"), answer
        tg = Telegram(server, diagnose=lambda: "\n".join(w.tail(30) for w in workers))
        tg.poll = 0.05
        yield Cluster(server, tg, lb, workers, db_url, metrics_ports, ports)
    finally:
        # workers first: they finish the updates in hand, which still call the sandbox
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))
        if lb is not None:
            await lb.stop()
        await server.stop()
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # ours only
        finally:
            await conn.close()
        await delete_bot_keys(bot_id)


def chat(cluster: Cluster, user_id: int) -> Chat:
    return Chat(cluster.tg, user_id, locale="en", timeout=STEP_TIMEOUT)


async def test_a_journey_moves_between_the_workers(cluster: Cluster) -> None:
    lb = cluster.lb
    # round robin: one subscriber alone, so consecutive updates alternate between workers
    alone = 810001
    cluster.numbers[alone] = await register(chat(cluster, alone), code=str(FIRST_CODE))
    assert set(lb.workers_of(alone)) == {0, 1}, lb.workers_of(alone)

    # started on worker 1, finished on worker 2: the form's state is shared through Redis
    mover = 810002
    lb.pins[mover] = 0

    def switch(step: str) -> None:
        if step == "email":
            lb.pins[mover] = 1

    number = await register(chat(cluster, mover), code=str(FIRST_CODE + 1), before=switch)
    cluster.numbers[mover] = number
    routes = lb.workers_of(mover)
    first_on_2 = routes.index(1)
    assert first_on_2 > 0 and set(routes[:first_on_2]) == {0}, routes
    assert set(routes[first_on_2:]) == {1}, routes
    assert number != cluster.numbers[alone]
    assert lb.failures == [], lb.failures


async def test_200_registrations_get_200_distinct_numbers(cluster: Cluster) -> None:
    lb = cluster.lb
    limit = asyncio.Semaphore(CONCURRENCY)
    users = {820000 + i: str(FIRST_CODE + 10 + i) for i in range(USERS)}
    first_route = len(lb.routes)

    async def one(user_id: int, code: str) -> int:
        async with limit:
            return await register(chat(cluster, user_id), code=code, fin=crowd_fin(user_id))

    results = await asyncio.gather(
        *(one(user, code) for user, code in users.items()), return_exceptions=True
    )

    failed = [(u, r) for u, r in zip(users, results, strict=True) if isinstance(r, BaseException)]
    assert not failed, (
        f"{len(failed)} of {USERS} registrations failed; the first: user {failed[0][0]}: "
        f"{failed[0][1]}"
    )
    numbers = [int(r) for r in results]  # type: ignore[arg-type]
    cluster.numbers.update(zip(users, numbers, strict=True))
    assert len(set(numbers)) == USERS, sorted(Counter(numbers).most_common(5))

    share = Counter(worker for _, _, worker in lb.routes[first_route:])
    total = sum(share.values())
    assert min(share[0], share[1]) >= 0.45 * total, share
    assert lb.failures == [], lb.failures[:5]
    conn = await asyncpg.connect(asyncpg_dsn(cluster.db_url))
    try:
        stored = [r["number"] for r in await conn.fetch("SELECT number FROM applications")]
    finally:
        await conn.close()
    assert sorted(stored) == sorted(cluster.numbers.values())
    for worker in cluster.workers:
        crashed = [line for line in worker.stderr().splitlines() if UPDATE_FAILED.search(line)]
        assert not crashed, f"{worker.name}: {crashed[:5]}"


async def test_each_staff_card_is_posted_once(cluster: Cluster) -> None:
    server = cluster.server
    expected = set(cluster.numbers.values())
    assert expected, "no registrations to check: the tests above did not register any"
    staff = str(server.staff_chat_id)

    def cards() -> Counter[int]:
        posted: Counter[int] = Counter()
        for entry in server.requests("sendMessage"):
            params = entry["params"]
            if entry["ok"] and str(params.get("chat_id")) == staff:
                posted.update(card_numbers(params.get("reply_markup")))
        return posted

    started = time.monotonic()

    async def all_posted() -> bool:
        posted = set(cards())
        if not posted and time.monotonic() - started > NO_CARD_AT_ALL_S:
            raise AssertionError(f"no staff card at all after {NO_CARD_AT_ALL_S:.0f}s")
        return expected <= posted

    try:
        await apoll_until(
            all_posted, timeout=90, what="a card for every application", procs=cluster.workers
        )
    except AssertionError as exc:
        missing = sorted(expected - set(cards()))
        raise AssertionError(
            f"{len(missing)} of {len(expected)} applications have no staff card "
            f"(first: {missing[:10]})\n{exc}"
        ) from None

    # let any duplicate in flight arrive: the log must stay still for two seconds
    seen = -1
    for _ in range(30):
        count = len(server.requests("sendMessage"))
        if count == seen:
            break
        seen = count
        await asyncio.sleep(2)

    posted = cards()
    twice = {n: c for n, c in posted.items() if c != 1}
    assert not twice, f"cards posted more than once: {dict(sorted(twice.items())[:20])}"
    assert set(posted) == expected, sorted(set(posted) ^ expected)[:20]
    in_chat = Counter(
        n for m in server.messages(server.staff_chat_id) for n in card_numbers(m["reply_markup"])
    )
    assert in_chat == Counter(dict.fromkeys(expected, 1))


async def test_the_public_port_shows_only_the_webhook(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as http:
        for port in cluster.webhook_ports:
            for path in ("/metrics", "/healthz"):
                async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                    assert resp.status == 404, (port, path)


async def test_one_update_delivered_to_both_workers_is_answered_once(cluster: Cluster) -> None:
    user = 830001
    cluster.lb.mirrored.add(user)
    before = await duplicates_skipped(cluster.metrics_ports)
    first = len(cluster.lb.routes)
    await chat(cluster, user).send("/start", has_text(shown(FIN_PROMPT, "en")))
    routed = [(update, worker) for update, who, worker in cluster.lb.routes[first:] if who == user]
    assert sorted(worker for _, worker in routed) == [0, 1], routed
    assert len({update for update, _ in routed}) == 1, routed
    # the worker that lost the claim has counted the copy it skipped: nothing more is coming
    await apoll_until(
        lambda: _more_than(cluster.metrics_ports, before),
        timeout=STEP_TIMEOUT,
        what="a worker to skip the copy",
        procs=cluster.workers,
    )
    assert await duplicates_skipped(cluster.metrics_ports) == before + 1
    answers = [m for m in cluster.server.messages(user) if m["from"]["is_bot"]]
    assert len(answers) == 1, answers
    assert cluster.lb.failures == [], cluster.lb.failures


async def _more_than(ports: list[int], count: float) -> bool:
    return await duplicates_skipped(ports) > count

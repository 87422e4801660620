"""The end-to-end harness: real bot processes, the sandbox, and a subscriber who waits.

Processes (:class:`Proc`) write stdout and stderr to files, so nothing blocks on a full pipe
and a failing assertion can quote the tail of their logs. They are stopped with SIGTERM and,
when that does not end them in time, SIGKILL.

:class:`Telegram` wraps either the sandbox's HTTP client (the sandbox runs in the bot's
process) or an in-process :class:`~sandbox.server.SandboxServer`, with one way of waiting:
poll the last messages of a chat every 50-100 ms. (The server's own ``wait_for`` re-reads
every message of a chat on every change of the world; with hundreds of users in flight that
is quadratic.)

:class:`Chat` is one subscriber. Each step sends something and waits for the window it
expects (:class:`Expect`), so a test never sleeps and every wait is an assertion. Buttons
are pressed by the widget id in their callback data, never by their label, so the steps
work whatever language the catalogues are in; labels and texts are checked against the
catalogue (:func:`tr`) for the user's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram.utils.i18n import I18n

from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]
BOT_PY = REPO / "bot.py"
DEMO_CSV = REPO / "storage" / "seed" / "demo_subscribers.csv"
ARTIFACTS = REPO / "test-artifacts"

# A bot process imports aiogram (its types alone take seconds of CPU) and migrates the
# database before it answers: on a loaded machine that is tens of seconds.
START_TIMEOUT = float(os.environ.get("E2E_START_TIMEOUT", "150"))
STEP_TIMEOUT = float(os.environ.get("E2E_STEP_TIMEOUT", "20"))

RAUF = 620000001  # a preset member of the sandbox's staff group (not a support agent)
LEYLA = 620000002  # a preset member of the staff group who is a support agent too
NIGAR = 640000001  # a preset support agent outside the staff group

# --- texts (msgids; the expected text is always their translation, see tr) ----------------
FIN_PROMPT = "Please type the FIN of your identity card (7 characters, for example 5ABC12D)."
STEP = "<i>Step {step} of {total}</i>"
FORM_STEPS = 7
NEW_APPLICATION = "Create a new application"
CONTINUE = "Continue"
REGISTERED = (
    "Your application has been registered. Thank you for using our service. "
    "Your application number: {number}"
)
DEBT_WARNING = (
    "This subscriber currently has an outstanding debt. Pay the debt and try again to "
    "carry out the operation."
)
DEBT_AMOUNT = "Debt: <b>{debt_amount}</b>"
PAY_THE_DEBT = "Pay the debt"
APPLICATION_TITLE = "<b>Application No. {number}</b>"
NOTICE_TAKEN = "🛠 Your application No. {number} has been taken into work."
NOTICE_DONE = "✅ Your application No. {number} has been completed."
MAIL_DONE_SUBJECT = "Application No. {number} has been completed"
TAKE = "🛠 Take"
DONE = "✅ Done"

compile_catalogues()
I18N = I18n(path=LOCALES_DIR, default_locale="az", domain="messages")


def tr(msgid: str, locale: str = "az", /, **params: Any) -> str:
    """What a user of ``locale`` is shown for ``msgid`` (the msgid itself while untranslated)."""
    text = I18N.gettext(msgid, locale=locale)
    return text.format(**params) if params else text


def plain(markup: str) -> str:
    """The text Telegram shows for an HTML message text: tags gone, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def shown(msgid: str, locale: str = "az", /, **params: Any) -> str:
    return plain(tr(msgid, locale, **params))


def template_regex(msgid: str, locale: str, **groups: str) -> re.Pattern[str]:
    """``msgid``'s translation as a regex; each ``{name}`` in ``groups`` becomes a group."""
    pattern = re.escape(plain(tr(msgid, locale)))
    for name, group in groups.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})")
    return re.compile(pattern)


# --- processes and ports ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SETTINGS_NAMES = frozenset((f.alias or name).upper() for name, f in Settings.model_fields.items())


def bot_env(**settings: object) -> dict[str, str]:
    """The environment of a bot process: ours without any of the bot's settings, plus these."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_NAMES}
    env.update({k: str(v) for k, v in settings.items() if v is not None})
    # A metrics listener of its own per bot process: two on one machine (the workers of a
    # cluster, or two test runs at once) would collide on the default port.
    env.setdefault("METRICS_PORT", str(free_port()))
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("LOG_LEVEL", "INFO")
    return env


@dataclass
class Proc:
    """A child process whose stdout and stderr go to files in ``logs``."""

    name: str
    popen: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path
    stopped_rc: int | None = None
    killed: bool = False

    @classmethod
    def start(cls, name: str, args: list[str], *, env: dict[str, str], cwd: Path) -> Proc:
        logs = cwd / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            popen = subprocess.Popen(
                args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
        return cls(name, popen, out_path, err_path)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        return self.out_path.read_text("utf-8", "replace") if self.out_path.exists() else ""

    def stderr(self) -> str:
        return self.err_path.read_text("utf-8", "replace") if self.err_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        """The last lines of both logs (without aiohttp's access log)."""
        out = self.stdout().splitlines()[-lines:]
        err = [line for line in self.stderr().splitlines() if "aiohttp.access" not in line]
        err = err[-lines:]
        state = "running" if self.alive() else f"exited with {self.popen.returncode}"
        return "\n".join(
            [
                f"--- {self.name} (pid {self.pid}, {state}) stdout, last {len(out)} lines:",
                *out,
                f"--- {self.name} stderr, last {len(err)} lines:",
                *err,
            ]
        )

    def check_alive(self) -> None:
        if not self.alive():
            raise AssertionError(f"{self.name} died\n{self.tail()}")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; the exit code (negative: by a signal)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(10)
        self.stopped_rc = self.popen.returncode
        return self.stopped_rc


@dataclass
class RestartingBot:
    """``python bot.py run`` polling ``server`` (in this process), killed with SIGKILL and
    started again at will; ``procs`` are its runs, the current one last."""

    server: SandboxServer
    database: Path
    env: dict[str, str]
    cwd: Path
    procs: list[Proc] = field(default_factory=list)

    @property
    def proc(self) -> Proc:
        return self.procs[-1]

    def logs(self) -> str:
        return "\n".join(proc.tail(30) for proc in self.procs)

    async def start(self) -> None:
        """Start a run and wait until it polls."""
        name = f"bot-{len(self.procs) + 1}"
        self.procs.append(
            Proc.start(name, [sys.executable, str(BOT_PY), "run"], env=self.env, cwd=self.cwd)
        )

        async def polling() -> bool:  # every start of the polling loop drops the webhook
            return len(self.server.requests("deleteWebhook")) >= len(self.procs)

        await apoll_until(
            polling, timeout=START_TIMEOUT, what=f"{name} to poll", procs=[self.proc]
        )

    async def kill(self) -> None:
        """SIGKILL the current run and wait until it is gone."""
        self.proc.popen.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(self.proc.popen.wait, 10) == -signal.SIGKILL


@contextlib.asynccontextmanager
async def polling_bot(
    tmp_path: Path, kind: type[RestartingBot] = RestartingBot, **settings: object
) -> AsyncIterator[Any]:
    """A migrated SQLite file, a sandbox in this process and a bot (``kind``, not started
    yet) that polls it with ``settings`` on top of the token, the API URL and the staff
    chat; at the end every run of the bot is stopped, then the sandbox."""
    from sandbox.server import SandboxServer
    from storage.migrate import upgrade_to_head

    database = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{database}"
    await asyncio.to_thread(upgrade_to_head, url)
    server = SandboxServer(api_port=0, web_port=0, mail_dir=tmp_path / "mail")
    await server.start()
    env = bot_env(
        BOT_TOKEN=server.token,
        TELEGRAM_API_URL=server.api_url,
        STAFF_CHAT_ID=server.staff_chat_id,
        DATABASE_URL=url,
        MAIL_DIR=tmp_path / "mail",
        **settings,
    )
    bot = kind(server, database, env, tmp_path)
    try:
        yield bot
    finally:
        for proc in bot.procs:
            await asyncio.to_thread(proc.stop)
        await server.stop()


@dataclass
class SandboxApp:
    """``python bot.py`` without a token: its process, ports and files.

    ``database`` and ``mail_dir`` are the sandbox's own (in its data directory);
    ``ignored_database`` and ``ignored_mail_dir`` are what DATABASE_URL and MAIL_DIR named.
    """

    proc: Proc
    web_port: int
    api_port: int
    data_dir: Path
    ignored_database: Path
    ignored_mail_dir: Path
    subscribers_at_start: dict[str, tuple[bool, float, str, str | None]]

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "bot.db"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return dict(json.loads(resp.read()))


def start_bot_sandbox(
    name: str, args: list[str], *, web_port: int, env: dict[str, str], cwd: Path
) -> Proc:
    """``python bot.py *args`` without a token, once it printed its two lines and the bot
    polls the sandbox on ``web_port`` (stopped again if it never gets there)."""
    proc = Proc.start(name, [sys.executable, str(BOT_PY), *args], env=env, cwd=cwd)
    try:
        poll_until(
            lambda: len(proc.stdout().splitlines()) >= 2,
            timeout=START_TIMEOUT,
            what=f"the first two lines of `python bot.py {' '.join(args)}`",
            procs=[proc],
        )
        url = f"http://127.0.0.1:{web_port}/sandbox/requests"
        # The bot has started when it asked who it is (polling) or dropped the webhook.
        poll_until(
            lambda: (
                get_json(f"{url}?method=getMe")["requests"]
                or get_json(f"{url}?method=deleteWebhook")["requests"]
            ),
            timeout=START_TIMEOUT,
            what="the bot to start polling the sandbox",
            procs=[proc],
        )
    except BaseException:
        proc.stop()
        raise
    return proc


def stop_cleanly(proc: Proc) -> None:
    rc = proc.stop()
    assert not proc.killed and rc == 0, (
        f"`python bot.py` did not stop cleanly on SIGTERM (exit code {rc}, "
        f"killed={proc.killed})\n{proc.tail()}"
    )


def read_subscribers(database: Path) -> dict[str, tuple[bool, float, str, str | None]]:
    """code -> (meterless, debt, service state, owner FIN) in a SQLite database of the bot."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT code, meterless, debt_azn, service_state, owner_fin FROM subscribers"
        ).fetchall()
    return {code: (bool(m), float(debt), state, owner) for code, m, debt, state, owner in rows}


def run_bot_command(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = START_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``python bot.py <args>`` to its end; fails with its output unless it exits 0."""
    done = subprocess.run(
        [sys.executable, str(BOT_PY), *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"python bot.py {' '.join(args)} exited with {done.returncode}\n"
            f"--- stdout:\n{done.stdout[-4000:]}\n--- stderr:\n{done.stderr[-4000:]}"
        )
    return done


def poll_until(
    check: Callable[[], Any], *, timeout: float, what: str, procs: Iterable[Proc] = ()
) -> Any:
    """Call ``check`` every 0.2 s until it returns something truthy (blocking)."""
    deadline = time.monotonic() + timeout
    procs = list(procs)
    while True:
        for proc in procs:
            proc.check_alive()
        with contextlib.suppress(OSError, ValueError):
            result = check()
            if result:
                return result
        if time.monotonic() > deadline:
            tails = "\n".join(p.tail() for p in procs)
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
        time.sleep(0.2)


async def apoll_until(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float,
    what: str,
    procs: Iterable[Proc] = (),
    every: float = 0.2,
) -> Any:
    deadline = time.monotonic() + timeout
    procs = list(procs)
    while True:
        for proc in procs:
            proc.check_alive()
        with contextlib.suppress(OSError):
            result = await check()
            if result:
                return result
        if time.monotonic() > deadline:
            tails = "\n".join(p.tail() for p in procs)
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
        await asyncio.sleep(every)


# --- what a window should show ----------------------------------------------------------------
def widget_of(callback_data: str | None) -> str | None:
    """The widget part of aiogram-dialog's callback data (``<intent>\\x1d<widget>``)."""
    if not callback_data:
        return None
    return callback_data.split("\x1d", 1)[-1]


def inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard") or [] for b in row]


def widgets(message: dict[str, Any]) -> list[str]:
    return [w for w in (widget_of(b.get("callback_data")) for b in inline_buttons(message)) if w]


def button_for(message: dict[str, Any], widget: str) -> dict[str, Any]:
    """The inline button whose widget id is ``widget`` (or starts with it, for ``reason:``)."""
    for button in inline_buttons(message):
        found = widget_of(button.get("callback_data"))
        if found == widget or (widget.endswith(":") and found and found.startswith(widget)):
            return button
    raise AssertionError(f"no button {widget!r} in {widgets(message)}: {message.get('text')!r}")


@dataclass(frozen=True)
class Expect:
    """A predicate on a message view, with a description for the failure message."""

    what: str
    check: Callable[[dict[str, Any]], bool]

    def __call__(self, message: dict[str, Any]) -> bool:
        return bool(self.check(message))

    def __and__(self, other: Expect) -> Expect:
        return Expect(f"{self.what} and {other.what}", lambda m: self(m) and other(m))

    def __or__(self, other: Expect) -> Expect:
        return Expect(f"{self.what} or {other.what}", lambda m: self(m) or other(m))


def has_text(text: str) -> Expect:
    return Expect(f"text containing {text!r}", lambda m: text in (m.get("text") or ""))


def has_widget(widget: str) -> Expect:
    def check(m: dict[str, Any]) -> bool:
        return any(
            w == widget or (widget.endswith(":") and w.startswith(widget)) for w in widgets(m)
        )

    return Expect(f"a button {widget!r}", check)


def has_callback(data: str) -> Expect:
    return Expect(
        f"a button with callback_data {data!r}",
        lambda m: any(b.get("callback_data") == data for b in inline_buttons(m)),
    )


def matches(pattern: re.Pattern[str]) -> Expect:
    return Expect(
        f"text matching {pattern.pattern!r}", lambda m: bool(pattern.search(m.get("text") or ""))
    )


def step(number: int, locale: str) -> Expect:
    return has_text(shown(STEP, locale, step=number, total=FORM_STEPS))


# --- Telegram, as the tests see it --------------------------------------------------------------
class Telegram:
    """The sandbox through its client (HTTP) or in process; ``diagnose`` adds logs to failures."""

    def __init__(
        self,
        backend: Any,
        *,
        diagnose: Callable[[], str] | None = None,
        poll: float = 0.1,
    ) -> None:
        from sandbox.server import SandboxServer

        self.backend = backend
        self.local = isinstance(backend, SandboxServer)
        self.diagnose = diagnose
        self.poll = poll

    def __getattr__(self, name: str) -> Any:  # send_text, send_contact, press, click ...
        return getattr(self.backend, name)

    def _version(self, chat_id: int) -> int | None:
        """The chat's change counter (in process only; None when unknown)."""
        if not self.local:
            return None
        chat = self.backend.world.chats.get(int(chat_id))
        return chat.version if chat is not None else 0

    async def recent(self, chat_id: int, last: int | None = 8) -> list[dict[str, Any]]:
        """The chat's last ``last`` messages (all of them for None), oldest first."""
        if self.local:
            chat = self.backend.world.chats.get(int(chat_id))
            if chat is None:
                return []
            stored = chat.visible_messages()
            return [m.view() for m in (stored if last is None else stored[-last:])]
        messages = await self.backend.messages(chat_id)
        return messages if last is None else messages[-last:]

    async def wait(
        self,
        chat_id: int,
        expect: Expect,
        *,
        after: int | None = None,
        from_bot: bool = True,
        timeout: float = STEP_TIMEOUT,
        last: int | None = 8,
    ) -> dict[str, Any]:
        """The newest message of the chat that ``expect`` accepts, waiting for it."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        seen_version: int | None = -1
        while True:
            version = self._version(chat_id)
            # In process, read the messages again only when the chat changed.
            if version is None or version != seen_version:
                seen_version = version
                for message in reversed(await self.recent(chat_id, last)):
                    if message["from_bot"] != from_bot:
                        continue
                    if after is not None and message["message_id"] <= after:
                        continue
                    if expect(message):
                        return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(remaining, self.poll))
        tail = [
            f"#{m['message_id']} {'bot' if m['from_bot'] else 'user'}"
            f"{' (edited)' if m.get('edited') else ''}: {m.get('text')!r} {widgets(m)}"
            for m in (await self.recent(chat_id, 6))
        ]
        logs = f"\n{self.diagnose()}" if self.diagnose else ""
        raise AssertionError(
            f"chat {chat_id}: no message with {expect.what} within {timeout:.0f}s"
            + (f" after #{after}" if after else "")
            + "; last messages:\n  "
            + "\n  ".join(tail)
            + logs
        )

    async def mails(self) -> list[dict[str, Any]]:
        result = self.backend.mails()
        return await result if asyncio.iscoroutine(result) else result

    async def wait_mail(
        self, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = STEP_TIMEOUT
    ) -> dict[str, Any]:
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        while True:
            mails = await self.mails()
            for mail in mails:
                if check(mail):
                    return mail
            if time.monotonic() > deadline:
                subjects = [(m.get("to"), m.get("subject")) for m in mails[:5]]
                logs = f"\n{self.diagnose()}" if self.diagnose else ""
                raise AssertionError(f"no e-mail {what} within {timeout:.0f}s; {subjects}{logs}")
            await asyncio.sleep(self.poll)


@dataclass
class Chat:
    """One subscriber in a private chat with the bot."""

    tg: Telegram
    user_id: int
    locale: str = "en"
    timeout: float = STEP_TIMEOUT
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, text: str, expect: Expect) -> dict[str, Any]:
        __tracebackhide__ = True
        sent = await self.tg.send_text(self.user_id, text, language_code=self.locale)
        assert sent.get("delivered", True) is not False, sent
        return await self.expect(expect, after=int(sent["message"]["message_id"]))

    async def share_contact(self, expect: Expect) -> dict[str, Any]:
        sent = await self.tg.send_contact(self.user_id, own=True)
        return await self.expect(expect, after=int(sent["message"]["message_id"]))

    async def press(self, widget: str, expect: Expect) -> dict[str, Any]:
        """Press the button ``widget`` on the newest message that has it."""
        __tracebackhide__ = True
        holder = await self.expect(has_widget(widget))
        button = button_for(holder, widget)
        answer = await self.tg.press(
            self.user_id,
            self.user_id,
            holder["message_id"],
            button["callback_data"],
            wait=self.timeout,
        )
        # aiogram-dialog answers a press after it has shown the next window
        assert answer.get("answered"), f"the press of {widget!r} was not answered: {answer}"
        return await self.expect(expect)

    async def expect(self, expect: Expect, *, after: int | None = None) -> dict[str, Any]:
        __tracebackhide__ = True
        message = await self.tg.wait(self.user_id, expect, after=after, timeout=self.timeout)
        self.seen.append(message)
        return message


# --- the journeys ---------------------------------------------------------------------------------
async def open_menu(chat: Chat, fin: str = "5ABC12D") -> dict[str, Any]:
    """/start and, when asked, the FIN: the main menu."""
    menu = has_widget("new_app")
    first = await chat.send("/start", menu | has_text(shown(FIN_PROMPT, chat.locale)))
    if menu(first):
        return first
    return await chat.send(fin, menu)


StepHook = Callable[[str], Any]


async def fill_form(
    chat: Chat,
    *,
    code: str,
    fin: str = "5ABC12D",
    reason: str = "reason:",
    email: str | None = None,
    description: str = "Going abroad for two months.",
    before: StepHook | None = None,
) -> dict[str, Any]:
    """From /start to the summary (step 7); ``before(step)`` runs before each step."""
    loc = chat.locale

    async def hook(name: str) -> None:
        if before is not None:
            result = before(name)
            if asyncio.iscoroutine(result):
                await result

    await hook("start")
    await open_menu(chat, fin)
    await hook("new")
    await chat.press("new_app", step(1, loc))
    await hook("code")
    await chat.send(code, step(2, loc))
    await hook("reason")
    await chat.press(reason, step(3, loc))
    await hook("phone")
    await chat.share_contact(step(4, loc))
    await hook("email")
    await chat.send(email or f"user{chat.user_id}@example.com", step(5, loc))
    await hook("description")
    await chat.send(description, step(6, loc))
    await hook("notes")
    return await chat.press("skip_notes", step(7, loc))


async def confirm(chat: Chat) -> int:
    """Press "Continue" on the summary; the number the bot gives."""
    registered = template_regex(REGISTERED, chat.locale, number=r"\d+")
    done = await chat.press("confirm", matches(registered))
    found = registered.search(done["text"])
    assert found is not None
    return int(found.group("number"))


async def register(chat: Chat, *, code: str, before: StepHook | None = None, **fields: Any) -> int:
    """A whole application through the bot; returns its number."""
    await fill_form(chat, code=code, before=before, **fields)
    if before is not None:
        result = before("confirm")
        if asyncio.iscoroutine(result):
            await result
    return await confirm(chat)


# --- the staff group ----------------------------------------------------------------------------
WORK_ORDER_DATA = re.compile(r"^wo:(?P<action>[a-z]+):(?P<number>\d+)$")


def card_numbers(markup: Any) -> set[int]:
    """Application numbers named by the work-order buttons of a reply_markup (dict or JSON)."""
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return set()
    if not isinstance(markup, dict):
        return set()
    numbers = set()
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            found = WORK_ORDER_DATA.match(str(button.get("callback_data") or ""))
            if found:
                numbers.add(int(found.group("number")))
    return numbers


def card_action(number: int, action: str) -> Expect:
    return has_callback(f"wo:{action}:{number}")


def date_prompt_of(number: int, card_id: int) -> Expect:
    """The staff group's "when will it be done?" prompt after Take, answering the card."""

    def check(m: dict[str, Any]) -> bool:
        return m.get("reply_to") == card_id and any(
            str(b.get("callback_data", "")).startswith(f"wpl:{number}:") for b in inline_buttons(m)
        )

    return Expect(f"the date prompt of No. {number}", check)


async def import_own_subscribers(
    database: Path, folder: Path, fin: str, rows: Iterable[tuple[str, str, str]]
) -> None:
    """Subscribers only one test files on, owned by ``fin``: (code, state, address) rows merged
    into the sandbox's registry as ``python bot.py import-subscribers`` would."""
    from storage.database import create_engine
    from storage.subscribers_import import HEADER_WITH_PHONE, import_subscribers

    rows = list(rows)
    csv = folder / f"own-subscribers-{rows[0][0]}.csv"
    lines = [",".join(HEADER_WITH_PHONE)]
    lines += [f'{code},{fin},true,0.00,{state},"{address}",' for code, state, address in rows]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        result = await import_subscribers(engine, csv)
    finally:
        await engine.dispose()
    assert result.total == len(rows), result

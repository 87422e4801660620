"""The control API (``/sandbox/...``) and the page (``/``): the humans' side of the sandbox.

Why over HTTP: the page (plain JS) and end-to-end tests that run the bot as a separate process
drive the simulated users and read the world through these JSON endpoints; each one maps to a
method of :class:`sandbox.server.SandboxServer`, so in-process tests and HTTP tests exercise the
same code. Errors are ``{"ok": false, "error": "..."}`` with status 400/404 (403 for a request
from another origin, see :mod:`sandbox.origin`); successes are ``{"ok": true, ...}``.

=======================  =================================================================
``GET  /``               the page (``sandbox/static/index.html``)
``GET  /sandbox/config`` urls, bot user, staff chat id, preset users and staff
``POST /sandbox/send``   {user_id, text, chat_id?, reply_to_message_id?, first_name?,
                         language_code?, anonymous?}
``POST /sandbox/contact`` {user_id, phone_number?, own: true|false, chat_id?}
``POST /sandbox/sticker`` ``/photo`` ``/voice`` {user_id, chat_id?, caption?}
``POST /sandbox/press``  {user_id, chat_id, message_id?, data | text, wait?} -> the answer
``POST /sandbox/open``   {user_id, url} -> {action: start|open_chat|outside|external|refused,
                         url, reason, chat_id, sent?} (see :mod:`sandbox.links`)
``POST /sandbox/block``  {user_id, blocked}
``POST /sandbox/fail``   {method, code: 429|500|403|...|"drop"|"migrate", times?,
                         retry_after?, description?, chat_id?}
``POST /sandbox/migrate`` {chat_id?} -> {migrated_to}
``POST /sandbox/users``  {user_id, first_name?, language_code?, last_name?, username?}
``POST /sandbox/staff``  {user_id, member}
``POST /sandbox/reset``  forget chats, updates and logs
``GET  /sandbox/state``  ?chat_id=…&user_id=… messages, reply keyboard, action, commands
``GET  /sandbox/chats``  known chats
``GET  /sandbox/mail``   e-mails in mail_dir, newest first
``GET  /sandbox/requests`` ?method=…&since=<id>&limit=… the Bot API request log
``GET  /sandbox/commands`` stored commands per scope and language, and the call log
``GET  /sandbox/webhook`` webhook state; ``GET /sandbox/updates`` pending updates
``GET  /sandbox/failures`` armed failures
=======================  =================================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

STATIC_DIR = Path(__file__).with_name("static")
ControlHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def _ok(payload: dict[str, Any] | None = None) -> web.Response:
    return web.json_response({"ok": True, **(payload or {})}, dumps=_dumps)


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, dumps=_dumps)


def _int(params: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise SandboxError(f"{key} is required")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SandboxError(f"{key} must be an integer") from None


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def setup_control(app: web.Application, server: SandboxServer) -> None:
    """Register the page and the ``/sandbox/`` endpoints of ``server`` on ``app``."""

    def post(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            params: dict[str, Any] = dict(request.query)
            if request.body_exists:
                try:
                    body = await request.json()
                except ValueError:
                    return _error("the body must be a JSON object")
                if not isinstance(body, dict):
                    return _error("the body must be a JSON object")
                params.update(body)
            try:
                return _ok(await handler(params))
            except SandboxError as exc:
                return _error(str(exc), exc.status)

        return wrapped

    def get(handler: Callable[[web.Request], dict[str, Any]]) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                return _ok(handler(request))
            except SandboxError as exc:
                return _error(str(exc), exc.status)

        return wrapped

    async def page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def send(p: dict[str, Any]) -> dict[str, Any]:
        return await server.send_text(
            _req(p, "user_id"),
            str(p.get("text") or ""),
            chat_id=_int(p, "chat_id", required=False),
            reply_to_message_id=_int(p, "reply_to_message_id", required=False),
            first_name=p.get("first_name") or None,
            language_code=p.get("language_code") or None,
            anonymous=_bool(p.get("anonymous"), False),
        )

    async def contact(p: dict[str, Any]) -> dict[str, Any]:
        return await server.send_contact(
            _req(p, "user_id"),
            str(p["phone_number"]) if p.get("phone_number") else None,
            own=_bool(p.get("own"), True),
            chat_id=_int(p, "chat_id", required=False),
            first_name=p.get("first_name") or None,
            last_name=p.get("last_name") or None,
        )

    async def sticker(p: dict[str, Any]) -> dict[str, Any]:
        return await server.send_sticker(
            _req(p, "user_id"), chat_id=_int(p, "chat_id", required=False)
        )

    async def photo(p: dict[str, Any]) -> dict[str, Any]:
        return await server.send_photo(
            _req(p, "user_id"),
            chat_id=_int(p, "chat_id", required=False),
            caption=p.get("caption") or None,
            reply_to_message_id=_int(p, "reply_to_message_id", required=False),
        )

    async def voice(p: dict[str, Any]) -> dict[str, Any]:
        return await server.send_voice(
            _req(p, "user_id"), chat_id=_int(p, "chat_id", required=False)
        )

    async def press(p: dict[str, Any]) -> dict[str, Any]:
        user_id = _req(p, "user_id")
        chat_id = _int(p, "chat_id", required=False) or user_id
        message_id = _int(p, "message_id", required=False)
        wait = float(p.get("wait", 3.0))
        anonymous = _bool(p.get("anonymous"), False)
        if p.get("data") is not None:
            return await server.press(
                user_id, chat_id, message_id, str(p["data"]), wait=wait, anonymous=anonymous
            )
        if p.get("text") is not None:
            return await server.click(
                user_id,
                chat_id,
                str(p["text"]),
                message_id=message_id,
                wait=wait,
                anonymous=anonymous,
            )
        raise SandboxError("data (callback_data) or text (button text) is required")

    async def open_link(p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("url"):
            raise SandboxError("url is required")
        return await server.open_link(_req(p, "user_id"), str(p["url"]))

    async def block(p: dict[str, Any]) -> dict[str, Any]:
        return await server.block(_req(p, "user_id"), _bool(p.get("blocked"), True))

    async def fail(p: dict[str, Any]) -> dict[str, Any]:
        if p.get("code") is None:
            raise SandboxError("code is required")
        return server.fail(
            str(p.get("method") or "*"),
            p["code"],
            times=_int(p, "times", required=False) or 1,
            retry_after=_int(p, "retry_after", required=False),
            description=p.get("description") or None,
            chat_id=_int(p, "chat_id", required=False),
        )

    async def migrate(p: dict[str, Any]) -> dict[str, Any]:
        return {"migrated_to": server.migrate_staff_group(_int(p, "chat_id", required=False))}

    async def users(p: dict[str, Any]) -> dict[str, Any]:
        user = server.add_user(
            _req(p, "user_id"),
            p.get("first_name") or None,
            p.get("language_code") or None,
            last_name=p.get("last_name") or None,
            username=p.get("username") or None,
        )
        return {"user": user}

    async def staff(p: dict[str, Any]) -> dict[str, Any]:
        server.set_staff_member(_req(p, "user_id"), _bool(p.get("member"), True))
        return {"staff_user_ids": server.staff_user_ids}

    async def reset(p: dict[str, Any]) -> dict[str, Any]:
        server.reset()
        return {}

    def config(request: web.Request) -> dict[str, Any]:
        return server.config()

    def state(request: web.Request) -> dict[str, Any]:
        q = dict(request.query)
        chat_id = _req(q, "chat_id")
        return server.chat_state(chat_id, _int(q, "user_id", required=False))

    def chats(request: web.Request) -> dict[str, Any]:
        return {
            "chats": server.chats(),
            "users": list(server.world.users.values()),
            "version": server.world.version,
            "bot_last_seen": server.world.last_seen,
        }

    def mail(request: web.Request) -> dict[str, Any]:
        return {"mails": server.mails()}

    def requests(request: web.Request) -> dict[str, Any]:
        q = dict(request.query)
        entries = server.requests(q.get("method") or None)
        since = _int(q, "since", required=False)
        if since is not None:
            entries = [e for e in entries if e["id"] > since]
        limit = _int(q, "limit", required=False)
        if limit is not None:
            entries = entries[-limit:]
        return {"requests": entries}

    def commands(request: web.Request) -> dict[str, Any]:
        stored = [
            {"scope": json.loads(scope), "language_code": lang, "commands": cmds}
            for (scope, lang), cmds in server.world.commands.items()
        ]
        return {"commands": stored, "log": server.commands_log()}

    def webhook(request: web.Request) -> dict[str, Any]:
        return {"webhook": server.webhook_info()}

    def updates(request: web.Request) -> dict[str, Any]:
        return {"updates": server.pending_updates()}

    def failures(request: web.Request) -> dict[str, Any]:
        return {"failures": server.failures()}

    app.router.add_get("/", page)
    app.router.add_get("/index.html", page)
    for path, handler in (
        ("send", send),
        ("contact", contact),
        ("sticker", sticker),
        ("photo", photo),
        ("voice", voice),
        ("press", press),
        ("open", open_link),
        ("block", block),
        ("fail", fail),
        ("migrate", migrate),
        ("users", users),
        ("staff", staff),
        ("reset", reset),
    ):
        app.router.add_post(f"/sandbox/{path}", post(handler))
    for path, getter in (
        ("config", config),
        ("state", state),
        ("chats", chats),
        ("mail", mail),
        ("requests", requests),
        ("commands", commands),
        ("webhook", webhook),
        ("updates", updates),
        ("failures", failures),
    ):
        app.router.add_get(f"/sandbox/{path}", get(getter))


def _req(params: dict[str, Any], key: str) -> int:
    value = _int(params, key)
    if value is None:  # _int has raised first
        raise SandboxError(f"{key} is required")
    return value

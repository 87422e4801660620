"""The HTTP side: one aiohttp application on two listening sockets, and the Bot API route.

Why apart from :class:`~sandbox.server.SandboxServer`: binding ports (0 = any free port, one
socket when both ports are the same, nothing left half-started when a port is taken) and
turning an HTTP request into a Bot API call (``/bot{token}/{method}``, the URL scheme of
aiogram's ``TelegramAPIServer.from_base``; parameters from the query string and a JSON,
urlencoded or multipart body; a dropped connection when a failure says so) are plumbing the
server's Python API does not need to show.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from aiohttp import web

from sandbox.botapi import BotApi, DropConnection
from sandbox.errors import PortUnavailable


def add_bot_api_route(app: web.Application, token: str, api: BotApi) -> None:
    """Serve the Bot API of ``token`` on ``/bot{token}/{method}``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        try:
            raw = await read_params(request)
        except ValueError as exc:
            return _json(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}, 400
            )
        try:
            status, body = await api.call(request.match_info["method"], raw)
        except DropConnection:
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable() from None
        return _json(body, status)

    app.router.add_route("*", "/bot{token}/{method}", handler)


class Listener:
    """Serves one application on the Bot API port and the page's port."""

    def __init__(self, host: str, api_port: int, web_port: int) -> None:
        self.host = host
        self._ports = (api_port, web_port)
        self._runner: web.AppRunner | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self, app: web.Application) -> tuple[str, str]:
        """Bind both ports (0 = any free port), serve ``app``; returns (api_url, web_url)."""
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        api_port, web_port = self._ports
        sockets: list[socket.socket] = []
        try:
            api_sock = _bind(self.host, api_port, "api")
            sockets.append(api_sock)
            if web_port == api_port and api_port != 0:
                web_sock = api_sock
            else:
                web_sock = _bind(self.host, web_port, "web")
                sockets.append(web_sock)
            for sock in sockets:
                await web.SockSite(runner, sock).start()
        except OSError:  # a port is taken (PortUnavailable): leave nothing half-started
            for sock in sockets:
                sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        # A wildcard bind is reached from this machine through the loopback address.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # noqa: S104 - maps a wildcard bind to loopback
        host = f"[{host}]" if ":" in host else host
        return (
            f"http://{host}:{api_sock.getsockname()[1]}",
            f"http://{host}:{web_sock.getsockname()[1]}",
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string + body (JSON, urlencoded or multipart) as one flat dict."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ValueError("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            else:  # an uploaded file: the sandbox keeps only its description
                params[key] = {"filename": value.filename, "content_type": value.content_type}
    return params


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def probe_ports(host: str, api_port: int, web_port: int) -> None:
    """Raise :class:`PortUnavailable` now if a port cannot be listened on (bound, closed).

    For a start that would rather fail before its slow steps than after them; the real
    bind in :meth:`Listener.start` still raises the same error if the port is taken since.
    """
    for role, port in (("api", api_port), ("web", web_port)):
        if port != 0:
            _bind(host, port, role).close()


def _bind(host: str, port: int, role: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:  # busy, a privileged port, or a host that is not ours
        sock.close()
        raise PortUnavailable(role, host, port, exc) from exc
    sock.setblocking(False)
    return sock

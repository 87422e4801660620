"""The same-origin guard: the sandbox answers its own page and local programs, no web site.

Why: the control API makes people act (send messages, press buttons, reset the world) and the
Bot API route acts as the bot, all through plain POSTs; any web site open in the same browser
could send one to ``http://127.0.0.1:8080`` (a "simple" cross-site request needs no CORS
preflight), and a site that re-points its own name at 127.0.0.1 (DNS rebinding) could also
read the answers. So, on both ports:

- every request's ``Host`` must name the address its connection reached: the socket's IP
  and port, ``localhost`` on a loopback socket, or the host the server was told to bind
  (SANDBOX_HOST). A rebinding site's requests carry its own name and are refused;
- every request that can change something (any method but GET, HEAD and OPTIONS) that has an
  ``Origin`` must come from that same origin, ``http://`` + ``Host``: the page's own fetches
  do, a cross-site POST does not.

A request without ``Origin`` is allowed once its ``Host`` matched: browsers send ``Origin``
on every cross-origin POST (fetch and forms alike), so such a request comes from a program on
this machine or one the operator let reach the bound address: the bot itself, the tests'
:class:`~sandbox.client.SandboxClient`, curl.

Refusals are 403 with ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def same_origin_guard(bound_host: str) -> Middleware:
    """The middleware refusing what :func:`refusal` names, for a server bound to ``bound_host``."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        problem = refusal(request, bound_host)
        if problem is not None:
            return web.json_response({"ok": False, "error": problem}, status=403)
        return await handler(request)

    return guard


def refusal(request: web.Request, bound_host: str) -> str | None:
    """Why ``request`` is refused, or None when it comes from the sandbox's own origin."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    host = request.headers.get("Host")
    if not sockname or not host:
        return "a Host header naming the sandbox is required"
    local_ip, local_port = str(sockname[0]), int(sockname[1])
    name, port = _name_and_port(host)
    if port != local_port or name not in _names_of(local_ip, bound_host):
        return f"Host {host} is not this sandbox's address"
    origin = request.headers.get("Origin")
    if request.method in SAFE_METHODS or origin is None:
        return None
    try:
        parts = urlsplit(origin)
        same = (
            parts.scheme == "http"
            and _name_and_port(parts.netloc) == (name, port)
            and parts.path in ("", "/")
        )
    except ValueError:
        same = False
    if not same:
        return f"cross-site request refused: Origin {origin} is not http://{host}"
    return None


def _name_and_port(netloc: str) -> tuple[str, int | None]:
    """("127.0.0.1", 8080) for "127.0.0.1:8080", ("::1", 80) for "[::1]"; lower case."""
    try:
        parts = urlsplit("//" + netloc)
        port = parts.port
    except ValueError:
        return ("", None)
    return ((parts.hostname or "").lower(), 80 if port is None else port)


def _names_of(local_ip: str, bound_host: str) -> set[str]:
    """The names a request reaching ``local_ip`` may give as its Host."""
    ip = local_ip.lower().removeprefix("::ffff:")  # IPv4 through a dual-stack socket
    names = {ip, local_ip.lower(), bound_host.lower()}
    try:
        if ipaddress.ip_address(ip).is_loopback:
            names.add("localhost")
    except ValueError:
        pass
    return names

"""The container's health check: ``python -m bot.healthcheck``.

Asks this worker's /healthz where the settings serve it (``Settings.metrics_listener``): the
metrics listener, or the public port with METRICS_TOKEN; exits 0 when it answers 200 (the
database, and Redis when used, reachable), else 1. With neither (METRICS_PORT 0 and no
token) there is nothing to ask and it exits 0: the container runs. Settings that do not
load exit 1 with the bot's own one-line message.
"""

from __future__ import annotations

import sys
import urllib.request

from pydantic import ValidationError

from bot.config import Settings, describe_error
from bot.monitoring import HEALTH_PATH

TIMEOUT_S = 4
# A listener on every address is asked on the loopback one.
ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104


def health_request(settings: Settings) -> urllib.request.Request | None:
    where = settings.metrics_listener
    if where == "none":
        return None
    headers = {}
    if where == "own":
        host, port = settings.metrics_host, settings.metrics_port
    else:
        host, port = settings.listen_host, settings.listen_port
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        headers["Authorization"] = f"Bearer {token}"
    host = ANY_ADDRESS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return urllib.request.Request(f"http://{host}:{port}{HEALTH_PATH}", headers=headers)


def check(settings: Settings) -> int:
    request = health_request(settings)
    if request is None:
        return 0
    try:
        # An http:// URL built above from the settings, never from outside input.
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:  # noqa: S310
            return 0 if resp.status == 200 else 1
    except (OSError, ValueError):  # refused, timed out, 401 or 503 (HTTPError is an OSError)
        return 1


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        return 1
    return check(settings)


if __name__ == "__main__":
    sys.exit(main())

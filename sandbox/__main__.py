"""Run the sandbox alone: ``python -m sandbox --api-port 8081 --web-port 8080 --mail-dir …``.

Why: end-to-end tests can start the sandbox and the bot as two processes (or point a bot
started by hand at it). On start one JSON line is printed to stdout,
``{"event": "ready", "api_url": …, "web_url": …, "token": …, "staff_chat_id": …}``, so a
parent process that asked for port 0 learns the real ports. SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

from sandbox.errors import PortUnavailable
from sandbox.records import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN
from sandbox.server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A Telegram Bot API compatible sandbox server with a web page.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8081, help="Bot API port (0 = any)")
    parser.add_argument("--web-port", type=int, default=8080, help="page port (0 = any)")
    parser.add_argument("--mail-dir", type=Path, default=None, help="folder of *.eml files")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--staff-chat-id", type=int, default=DEFAULT_STAFF_CHAT_ID)
    parser.add_argument(
        "--staff-user-ids",
        default=None,
        help="comma-separated ids of the staff group's members (default: the preset staff)",
    )
    parser.add_argument(
        "--no-group-privacy",
        action="store_true",
        help="deliver every group message to the bot (privacy mode off)",
    )
    parser.add_argument(
        "--rate-limits", action="store_true", help="answer 429 like Telegram's flood limits"
    )
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    staff_ids = (
        [int(x) for x in args.staff_user_ids.split(",") if x.strip()]
        if args.staff_user_ids
        else None
    )
    server = SandboxServer(
        host=args.host,
        api_port=args.api_port,
        web_port=args.web_port,
        mail_dir=args.mail_dir,
        staff_chat_id=args.staff_chat_id,
        staff_user_ids=staff_ids,
        token=args.token,
        group_privacy=not args.no_group_privacy,
        rate_limits=args.rate_limits,
    )
    await server.start()
    ready = {
        "event": "ready",
        "api_url": server.api_url,
        "web_url": server.web_url,
        "token": server.token,
        "staff_chat_id": server.staff_chat_id,
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(args))
    except PortUnavailable as exc:  # one line, no traceback, naming the option to change
        option = "--api-port" if exc.role == "api" else "--web-port"
        reason = exc.cause.strerror or str(exc.cause)
        sys.stderr.write(
            f"{exc.host}:{exc.port} cannot be listened on ({reason}): "
            f"choose another with {option} (0: any free port)\n"
        )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

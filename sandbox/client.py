"""SandboxClient: the control API over HTTP, with the same names as SandboxServer's methods.

Why: end-to-end tests that run the bot (and maybe the sandbox) in another process cannot call
the server's Python API; this client gives them the same vocabulary (``send_text``, ``press``,
``click``, ``wait_for`` …) over the JSON endpoints of :mod:`sandbox.control`, so a test reads
the same whether it runs in-process or against ``python bot.py``. Every method is a coroutine;
a refused request raises :class:`sandbox.errors.SandboxError`. ``wait_for*`` poll every 100 ms.

    async with SandboxClient("http://127.0.0.1:8080") as tg:
        await tg.send_text(100001, "/start")
        greeting = await tg.wait_for(100001, "FIN")
        answer = await tg.click(100001, 100001, "English")
"""

from __future__ import annotations

from typing import Any

import aiohttp

from sandbox.errors import SandboxError
from sandbox.waiting import Predicate, as_predicate, first_match, newest_message, poll


class SandboxClient:
    """HTTP twin of :class:`sandbox.server.SandboxServer`'s Python API."""

    def __init__(self, web_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.web_url = web_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def _get(self, path: str, **query: Any) -> dict[str, Any]:
        params = {k: str(v) for k, v in query.items() if v is not None}
        async with self._http().get(f"{self.web_url}/sandbox/{path}", params=params) as resp:
            return _checked(await resp.json(), resp.status)

    async def _post(self, path: str, **body: Any) -> dict[str, Any]:
        data = {k: v for k, v in body.items() if v is not None}
        async with self._http().post(f"{self.web_url}/sandbox/{path}", json=data) as resp:
            return _checked(await resp.json(), resp.status)

    # -- facts and humans ------------------------------------------------------------------

    async def config(self) -> dict[str, Any]:
        return await self._get("config")

    async def staff_chat_id(self) -> int:
        return int((await self.config())["staff_chat_id"])

    async def add_user(
        self, user_id: int, first_name: str | None = None, language_code: str | None = None
    ) -> dict[str, Any]:
        body = await self._post("users", **_arguments(locals()))
        return dict(body["user"])

    async def set_staff_member(self, user_id: int, member: bool = True) -> None:
        await self._post("staff", **_arguments(locals()))

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        return await self._post("send", **_arguments(locals()))

    async def send_contact(
        self,
        user_id: int,
        phone_number: str | None = None,
        *,
        own: bool = True,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._post("contact", **_arguments(locals()))

    async def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> dict[str, Any]:
        return await self._post("sticker", **_arguments(locals()))

    async def send_photo(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._post("photo", **_arguments(locals()))

    async def send_voice(self, user_id: int, *, chat_id: int | None = None) -> dict[str, Any]:
        return await self._post("voice", **_arguments(locals()))

    async def press(
        self,
        user_id: int,
        chat_id: int,
        message_id: int | None,
        data: str,
        *,
        wait: float = 3.0,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        return await self._post("press", **_arguments(locals()))

    async def click(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        message_id: int | None = None,
        wait: float = 3.0,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        return await self._post("press", **_arguments(locals()))

    async def open_link(self, user_id: int, url: str) -> dict[str, Any]:
        return await self._post("open", **_arguments(locals()))

    async def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        return await self._post("block", **_arguments(locals()))

    async def fail(
        self,
        method: str,
        code: int | str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._post("fail", **_arguments(locals()))

    async def migrate_staff_group(self, chat_id: int | None = None) -> int:
        return int((await self._post("migrate", chat_id=chat_id))["migrated_to"])

    async def reset(self) -> None:
        await self._post("reset")

    # -- reading ---------------------------------------------------------------------------

    async def chat_state(self, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        return await self._get("state", chat_id=chat_id, user_id=user_id)

    async def messages(self, chat_id: int) -> list[dict[str, Any]]:
        return list((await self.chat_state(chat_id))["messages"])

    async def last_message(self, chat_id: int, *, from_bot: bool = True) -> dict[str, Any] | None:
        return newest_message(await self.messages(chat_id), as_predicate(None), from_bot=from_bot)

    async def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        return (await self.chat_state(chat_id)).get("reply_keyboard")

    async def chats(self) -> list[dict[str, Any]]:
        return list((await self._get("chats"))["chats"])

    async def requests(
        self, method: str | None = None, *, since: int | None = None
    ) -> list[dict[str, Any]]:
        return list((await self._get("requests", method=method, since=since))["requests"])

    async def commands(self) -> dict[str, Any]:
        return await self._get("commands")

    async def commands_log(self) -> list[dict[str, Any]]:
        return list((await self.commands())["log"])

    async def mails(self) -> list[dict[str, Any]]:
        return list((await self._get("mail"))["mails"])

    async def webhook_info(self) -> dict[str, Any] | None:
        return (await self._get("webhook"))["webhook"]

    async def wait_for(
        self,
        chat_id: int,
        predicate: Predicate = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
        from_bot: bool = True,
    ) -> dict[str, Any]:
        """Poll until a message matching ``predicate`` is in the chat; returns the newest."""
        check = as_predicate(predicate)

        async def find() -> dict[str, Any] | None:
            messages = await self.messages(chat_id)
            return newest_message(messages, check, from_bot=from_bot, after=after)

        return await poll(find, timeout, f"no matching message in chat {chat_id}")

    async def wait_for_request(
        self, method: str, predicate: Predicate = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        check = as_predicate(predicate, key="params")

        async def find() -> dict[str, Any] | None:
            return first_match(reversed(await self.requests(method)), check)

        return await poll(find, timeout, f"no matching {method} request")

    async def wait_for_mail(
        self, predicate: Predicate = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        check = as_predicate(predicate, key="subject")

        async def find() -> dict[str, Any] | None:
            return first_match(await self.mails(), check)

        return await poll(find, timeout, "no matching e-mail")


def _arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """A method's own arguments (its ``locals()`` before anything else) as the body it posts.

    The control endpoints take the same names as the methods, so a method relays its arguments
    instead of spelling each one twice; ``None`` is dropped by :meth:`SandboxClient._post`.
    """
    return {name: value for name, value in arguments.items() if name != "self"}


def _checked(body: dict[str, Any], status: int) -> dict[str, Any]:
    if not body.get("ok"):
        raise SandboxError(str(body.get("error", f"HTTP {status}")), status)
    return body

"""HTTP client of the subscriber registry (billing), implementing ``SubscriberRegistry``.

Contract
--------

Request::

    GET {base_url}/subscribers/{code}
    Accept: application/json
    Authorization: Bearer {api_token}        (only when a token is configured)

``{code}`` is the subscriber code, percent-encoded as a single path segment.

Responses:

``200 OK`` -- the subscriber, a JSON object (other keys are ignored)::

    {
      "subscriber_code": "123456",
      "meterless": true,
      "debt_azn": "12.50",
      "service_state": "active",
      "address": "Bakı ş., Nizami küç. 10, m. 5",
      "owner_fin": "5ABC12D",
      "phone": "+994501234567"
    }

* ``subscriber_code`` -- string, must equal the requested code;
* ``meterless`` -- boolean: true when the supply is billed without a water meter;
* ``debt_azn`` -- the debt in AZN, a decimal string (``"12.50"``, preferred) or a JSON
  number (``12.5``); it is parsed exactly into ``Decimal`` (JSON numbers too, never through
  ``float``); ``0`` means no debt, a negative value is an overpayment;
* ``service_state`` -- ``"active"`` or ``"suspended"``;
* ``address`` -- string, the supply address, cleaned like every single-line free text
  (``workflows.values.clean_text``: NFC, control and bidi characters removed, line breaks
  become spaces); longer than ``MAX_ADDRESS`` characters after that, it is cut to that
  length with an ellipsis and a warning naming the subscriber code (only) is logged;
* ``owner_fin`` -- string, the FIN of the registered owner, or ``null`` when unknown
  (the key itself is required);
* ``phone`` -- optional: string, the phone on record, in any Azerbaijani form
  (``"+994501234567"``, ``"050 123 45 67"``), kept in E.164; absent, ``null`` or ``""``:
  none. A Telegram-verified contact equal to it proves the owner FIN. A string that is not
  an Azerbaijani phone is dropped (with a warning naming the subscriber code only): nobody
  can prove the FIN by it, and the subscriber can still file; a value that is not a string
  breaks the contract like any ill-typed field.

``404 Not Found`` -- no subscriber with this code: ``lookup`` returns ``None``.

Anything else -- 5xx, 429, any other status (redirects are not followed), a body that is
not JSON, larger than ``MAX_BODY`` bytes or has a missing or ill-typed field, a timeout, a
connection error -- raises ``RegistryUnavailable`` ("the registry does not answer, try
later"), never ``None``.

Retries: the GET is idempotent, so timeouts, connection errors, 5xx and 429 are retried,
at most ``retries`` extra attempts, after ``backoff * 2**n`` seconds with jitter
(between half and the full value). A numeric ``Retry-After`` of at most 2 s replaces that
delay; a longer one (or ``retries`` exhausted) ends the lookup with ``RegistryUnavailable``
at once: a user is waiting in the chat. Other statuses and malformed bodies are not retried.

Timeouts are the ``aiohttp.ClientSession``'s, configured by whoever creates the session
(the composition root); the session is shared and closed by its creator.

Logs carry the subscriber code, the HTTP status and the attempt, never the response body
(addresses and FINs are personal data), the URL nor the token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from workflows.errors import RegistryUnavailable
from workflows.models import ServiceState, Subscriber
from workflows.values import ADDRESS_MAX_LENGTH, InvalidPhone, clean_text, cut, parse_phone

__all__ = ["MAX_ADDRESS", "MAX_BODY", "MAX_RETRY_AFTER", "HttpSubscriberRegistry"]

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 2.0
"""The longest ``Retry-After`` (seconds) worth waiting for while a user waits."""

MAX_ADDRESS = ADDRESS_MAX_LENGTH
"""The longest address kept (what the ``address`` columns hold)."""

MAX_BODY = 64 * 1024
"""The largest 200 body read (bytes); one subscriber is a few hundred."""

# Retried: the request may not have reached the registry, or its answer was cut off.
_TRANSIENT = (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)

_T = TypeVar("_T")


class _MalformedError(ValueError):
    """The 200 body breaks the contract; the message names the field, never its value."""


def _path_segment(code: str) -> str:
    segment = quote(code, safe="")
    # "." and ".." would be removed from the path as dot-segments: encode them.
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def _reject_constant(name: str) -> Any:
    raise _MalformedError(f"non-finite number {name}")


def _field(data: dict[str, Any], name: str, kind: type[_T]) -> _T:
    if name not in data:
        raise _MalformedError(f"missing {name}")
    value = data[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _MalformedError(f"{name} is not {kind.__name__}")
    return value


def _decimal(data: dict[str, Any], name: str) -> Decimal:
    if name not in data:
        raise _MalformedError(f"missing {name}")
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _MalformedError(f"{name} is not a decimal")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _MalformedError(f"{name} is not a decimal") from None
    if not amount.is_finite():
        raise _MalformedError(f"{name} is not finite")
    return amount


def parse_subscriber(content: bytes, code: str) -> Subscriber:
    """The ``Subscriber`` in a 200 body; ``_MalformedError`` if it breaks the contract."""
    if len(content) > MAX_BODY:
        raise _MalformedError(f"body larger than {MAX_BODY} bytes")
    try:
        # JSON numbers with a fraction become Decimal directly: no float on the way.
        data = json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise _MalformedError(f"body is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise _MalformedError("body is not an object")
    if _field(data, "subscriber_code", str) != code:
        raise _MalformedError("subscriber_code differs from the requested code")
    try:
        state = ServiceState(_field(data, "service_state", str))
    except ValueError:
        raise _MalformedError("unknown service_state") from None
    if "owner_fin" not in data:
        raise _MalformedError("missing owner_fin")
    owner_fin = data["owner_fin"]
    if owner_fin is not None and not isinstance(owner_fin, str):
        raise _MalformedError("owner_fin is not str or null")
    return Subscriber(
        code=code,
        meterless=_field(data, "meterless", bool),
        debt=_decimal(data, "debt_azn"),
        state=state,
        address=_address(_field(data, "address", str), code),
        owner_fin=(owner_fin or "").strip() or None,
        phone=_phone(data, code),
    )


def _phone(data: dict[str, Any], code: str) -> str | None:
    """The optional phone on record in E.164; None when absent, empty or not a phone."""
    raw = data.get("phone")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _MalformedError("phone is not str or null")
    if not raw.strip():
        return None
    try:
        return parse_phone(raw)
    except InvalidPhone as exc:
        log.warning("registry lookup %s: phone dropped (%s)", code, exc.code)
        return None


def _address(raw: str, code: str) -> str:
    """The address on one line, cut to ``MAX_ADDRESS`` characters with an ellipsis."""
    address = clean_text(raw, multiline=False)
    if len(address) > MAX_ADDRESS:
        log.warning(
            "registry lookup %s: address of %d characters cut to %d",
            code,
            len(address),
            MAX_ADDRESS,
        )
    return cut(address, MAX_ADDRESS)


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    """The body, but no more than ``MAX_BODY`` + 1 bytes of it."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            break
    return bytes(body)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """A numeric ``Retry-After`` in seconds; None if absent or an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a number of seconds


class HttpSubscriberRegistry:
    """``SubscriberRegistry`` over the billing HTTP API (see the module docstring)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        retries: int = 2,
        backoff: float = 0.2,
        api_token: str | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if backoff < 0:
            raise ValueError("backoff must be >= 0")
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._retries = retries
        self._backoff = backoff
        self._headers = {"Accept": "application/json"}
        if api_token:
            self._headers["Authorization"] = f"Bearer {api_token}"

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: in [d/2, d] for d = backoff * 2**attempt."""
        delay = self._backoff * 2**attempt
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret

    async def _get(self, url: URL) -> tuple[int, bytes, float | None]:
        """Status, the body of a 200 (else empty) and a numeric ``Retry-After``."""
        async with self._session.get(
            url, headers=self._headers, allow_redirects=False
        ) as response:
            body = await _read_limited(response) if response.status == HTTPStatus.OK else b""
            return response.status, body, _retry_after(response.headers)

    async def lookup(self, code: str) -> Subscriber | None:
        if not code:
            return None
        # encoded=True: the segment is sent as quoted here, "%2E%2E" included.
        url = URL(f"{self._base_url}/subscribers/{_path_segment(code)}", encoded=True)
        attempts = self._retries + 1
        for attempt in range(1, attempts + 1):
            pause: float | None = None
            try:
                status, body, retry_after = await self._get(url)
            except _TRANSIENT as exc:
                log.warning(
                    "registry lookup %s: %s (attempt %d/%d)",
                    code,
                    type(exc).__name__,
                    attempt,
                    attempts,
                )
            except aiohttp.ClientError as exc:  # not worth a retry
                log.error("registry lookup %s: %s", code, type(exc).__name__)
                raise RegistryUnavailable(
                    f"registry request failed: {type(exc).__name__}"
                ) from exc
            else:
                if status == HTTPStatus.OK:
                    try:
                        subscriber = parse_subscriber(body, code)
                    except _MalformedError as exc:
                        log.error("registry lookup %s: 200 with a malformed body: %s", code, exc)
                        raise RegistryUnavailable(f"malformed registry answer: {exc}") from exc
                    log.info("registry lookup %s: 200", code)
                    return subscriber
                if status == HTTPStatus.NOT_FOUND:
                    log.info("registry lookup %s: 404", code)
                    return None
                if status != HTTPStatus.TOO_MANY_REQUESTS and not 500 <= status <= 599:
                    log.error("registry lookup %s: unexpected status %d", code, status)
                    raise RegistryUnavailable(f"registry answered {status}")
                log.warning(
                    "registry lookup %s: %d (attempt %d/%d)", code, status, attempt, attempts
                )
                pause = retry_after
                if pause is not None and pause > MAX_RETRY_AFTER:
                    raise RegistryUnavailable(f"registry answered {status}, retry after {pause}s")
            if attempt < attempts:
                await asyncio.sleep(pause if pause is not None else self._delay(attempt - 1))
        raise RegistryUnavailable(f"registry did not answer after {attempts} attempts")

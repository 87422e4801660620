"""The sandbox's refusals: what Telegram answers the bot, and what the control API answers people.

Why one module: the Bot API side raises :class:`ApiError` (a Telegram-shaped error body whose
HTTP status is its ``error_code``), the control side raises :class:`SandboxError` (bad input
from the page or a test), and an injected network failure raises :class:`DropConnection`; the
world, the Bot API methods, the spec and the HTTP layer all raise or catch them.
"""

from __future__ import annotations

from typing import Any, Protocol


class ApiError(Exception):
    """A Telegram-style failure: HTTP status == ``error_code``, plus optional parameters."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def bad_request_text(description: str) -> ApiError:
    return ApiError(400, description)


class SandboxError(Exception):
    """A control-API request that cannot be carried out (bad user input, no such button)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class PortUnavailable(OSError):
    """A port the sandbox cannot listen on. ``role`` is ``"api"`` (the Bot API) or ``"web"``
    (the page); ``cause`` is the operating system's error (``errno`` is copied from it)."""

    def __init__(self, role: str, host: str, port: int, cause: OSError) -> None:
        super().__init__(cause.errno, f"{host}:{port} ({role}): {cause.strerror or cause}")
        self.role = role
        self.host = host
        self.port = port
        self.cause = cause


class DropConnection(Exception):
    """An injected network failure: the HTTP layer closes the connection without answering."""


# -- Telegram's wording for an invalid request (used by sandbox.spec) ----------------------


class _Field(Protocol):
    name: str
    types: tuple[str, ...]


# Telegram's own wording for the limits a bot hits most often; everything else gets a
# generic but still Telegram-shaped description.
_LEN_ERRORS: dict[tuple[str, str], str] = {
    ("InlineKeyboardButton", "callback_data"): "Bad Request: BUTTON_DATA_INVALID",
    ("BotCommand", "command"): "Bad Request: BOT_COMMAND_INVALID",
    ("BotCommand", "description"): "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
    ("answerCallbackQuery", "text"): "Bad Request: MESSAGE_TOO_LONG",
    ("sendMessage", "text"): "Bad Request: message is too long",
    ("editMessageText", "text"): "Bad Request: message is too long",
    ("InputTextMessageContent", "message_text"): "Bad Request: MESSAGE_TOO_LONG",
}
_TYPE_WORDS: dict[str, str] = {
    "InlineKeyboardButton": "inline keyboard button",
    "KeyboardButton": "keyboard button",
    "InlineKeyboardMarkup": "inline keyboard",
    "ReplyKeyboardMarkup": "reply keyboard markup",
}


def missing_parameter(name: str) -> ApiError:
    if name == "text":
        return bad_request("message text is empty")
    if name in ("chat_id", "message_id", "callback_query_id", "user_id"):
        return bad_request(f"{name} is empty")
    return bad_request(f'parameter "{name}" is required')


def json_error(fs: _Field) -> ApiError:
    if fs.name == "reply_markup":
        return bad_request("can't parse reply keyboard markup JSON object")
    return bad_request(f"can't parse {fs.name} JSON object")


def type_error(owner: str, fs: _Field, *, top: bool) -> ApiError:
    expected = " or ".join(fs.types)
    if top:
        if fs.name == "chat_id":
            return bad_request("chat not found")
        return bad_request(f'field "{fs.name}" must be of type {expected}')
    return bad_request(
        f'can\'t parse {type_words(owner)}: Field "{fs.name}" must be of type {expected}'
    )


def length_error(owner: str, fs: _Field, lo: int, hi: int, unit: str) -> ApiError:
    return bad_request_text(
        _LEN_ERRORS.get((owner, fs.name))
        or f"Bad Request: {where(owner, fs)} must be {lo}-{hi} {unit} long"
    )


def where(owner: str, fs: _Field) -> str:
    """``name`` for a method's parameter, ``Type.name`` for a field of a type."""
    return fs.name if owner[:1].islower() else f"{owner}.{fs.name}"


def type_words(type_name: str) -> str:
    """How Telegram names a type (or a method) in an error description."""
    return _TYPE_WORDS.get(type_name, type_name)

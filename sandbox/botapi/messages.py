"""Bot API methods of messages: send, edit, delete, and answering a button press.

Why together: they share Telegram's rules for a message the bot writes: its text (HTML parsed
strictly, :mod:`sandbox.tghtml`; at most 4096 characters after parsing), its keyboards (an
inline keyboard's URLs, a reply keyboard that stays with the chat until removed or until the
message that brought it is deleted, ``force_reply``), its reply target, the flood limits
(429 with ``retry_after`` when the server runs with ``rate_limits``), and the edits' rules:
"message is not modified" for an identical edit, and an edit without ``reply_markup`` removes
the inline keyboard. A second ``answerCallbackQuery`` (or one too late) is "query is too old".
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.botapi.common import Area, bot_method
from sandbox.errors import ApiError, bad_request
from sandbox.records import ChatState, StoredMessage
from sandbox.tghtml import EntityParseError, ParsedText, parse_html, plain

if TYPE_CHECKING:
    from sandbox.botapi.core import BotApi

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class MessageMethods(Area):
    """sendMessage, editMessageText/ReplyMarkup, deleteMessage(s), answerCallbackQuery."""

    def __init__(self, api: BotApi) -> None:
        super().__init__(api)
        self._global_sends: list[float] = []  # the last second's sends, for the flood limits

    # -- helpers ---------------------------------------------------------------------------

    def _check_rate(self, chat: ChatState) -> None:
        if not self.api.rate_limits:
            return
        now = time.monotonic()
        window, limit = (3.0, 3) if chat.is_private else (60.0, 20)
        recent = [t for t in chat.sent_times if now - t < window]
        if len(recent) >= limit:
            retry = max(1, math.ceil(window - (now - recent[0])))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._global_sends = [t for t in self._global_sends if now - t < 1.0]
        if len(self._global_sends) >= 30:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        chat.sent_times.append(now)
        self._global_sends.append(now)

    @staticmethod
    def _parse_text(
        text: str | None, parse_mode: str | None, entities: list[dict[str, Any]] | None
    ) -> ParsedText:
        if text is None:
            raise bad_request("message text is empty")
        if parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    parsed = parse_html(text)
                except EntityParseError as exc:
                    raise bad_request(f"can't parse entities: {exc}") from None
            elif mode in ("markdown", "markdownv2"):
                parsed = plain(text)  # accepted, but not parsed (the bot sends HTML)
            else:
                raise bad_request("unsupported parse_mode")
        else:
            parsed = plain(text, entities)
        if not parsed.text:
            raise bad_request("message text is empty")
        if len(parsed.text) > 4096:
            raise bad_request("message is too long")
        return parsed

    @staticmethod
    def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
        if not markup or "inline_keyboard" not in markup:
            return None
        rows = [list(row) for row in markup["inline_keyboard"] if row]
        for button in (b for row in rows for b in row):
            url = button.get("url")
            if url is not None and urlsplit(url).scheme not in ("http", "https", "tg"):
                raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong URL")
        return {"inline_keyboard": rows} if rows else None

    def _reply_target(self, chat: ChatState, params: dict[str, Any]) -> StoredMessage | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not reply:
            return None
        try:
            message_id = int(reply["message_id"])
        except (TypeError, ValueError, KeyError):
            raise bad_request("message to be replied not found") from None
        allow = str(reply.get("allow_sending_without_reply")).lower() in ("true", "1")
        other_chat = reply.get("chat_id")
        target = None
        if other_chat is None or str(other_chat) == str(chat.id):
            target = self.world.message_or_none(chat.id, message_id)
        if target is None and not allow:
            raise bad_request("message to be replied not found")
        return target

    def _apply_keyboard(
        self, chat: ChatState, markup: dict[str, Any] | None, message: StoredMessage
    ) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            keyboard = {k: v for k, v in markup.items() if k != "keyboard"}
            keyboard["keyboard"] = [
                [{"text": b} if isinstance(b, str) else b for b in row]
                for row in markup["keyboard"]
            ]
            keyboard["message_id"] = message.message_id
            chat.reply_keyboard = keyboard
            chat.keyboard_hidden = False
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        elif markup.get("force_reply"):
            message.force_reply = {
                k: markup[k] for k in ("input_field_placeholder", "selective") if k in markup
            }

    def _editable(self, params: dict[str, Any]) -> tuple[ChatState, StoredMessage]:
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("inline messages are not supported by the sandbox")
        chat = self.chat(params["chat_id"], sending=True)
        message = self.world.message_or_none(chat.id, int(params["message_id"]))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    @staticmethod
    def _snapshot(message: StoredMessage) -> dict[str, Any]:
        view = message.view()
        return {k: view[k] for k in ("text", "html", "reply_markup", "date", "edit_date")}

    # -- methods ---------------------------------------------------------------------------

    @bot_method("sendMessage")
    async def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat(params["chat_id"], sending=True)
        parsed = self._parse_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = params.get("reply_markup")
        inline = self._inline_markup(markup)
        target = self._reply_target(chat, params)
        self._check_rate(chat)
        data: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": self.world.bot_from(),
            "chat": dict(chat.chat),
            "date": int(time.time()),
            "text": parsed.text,
        }
        if parsed.entities:
            data["entities"] = parsed.entities
        if target is not None:
            data["reply_to_message"] = self.world.reply_copy(target)
        if inline is not None:
            data["reply_markup"] = inline
        if params.get("link_preview_options"):
            data["link_preview_options"] = params["link_preview_options"]
        is_html = str(params.get("parse_mode") or "").lower() == "html"
        message = StoredMessage(
            chat.id,
            data["message_id"],
            data,
            True,
            "text",
            raw_html=params["text"] if is_html else None,
        )
        self._apply_keyboard(chat, markup, message)
        chat.action = None
        self.world.store(chat, message)
        return data

    @bot_method("editMessageText")
    async def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        parsed = self._parse_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        inline = self._inline_markup(params.get("reply_markup"))
        data = message.data
        if (
            parsed.text == data.get("text")
            and parsed.entities == (data.get("entities") or [])
            and inline == data.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.history.append(self._snapshot(message))
        data["text"] = parsed.text
        _set_or_pop(data, "entities", parsed.entities or None)
        _set_or_pop(data, "reply_markup", inline)
        data["edit_date"] = int(time.time())
        is_html = str(params.get("parse_mode") or "").lower() == "html"
        message.raw_html = params["text"] if is_html else None
        self.world.store(chat, message)
        return data

    @bot_method("editMessageReplyMarkup")
    async def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params)
        inline = self._inline_markup(params.get("reply_markup"))
        data = message.data
        if inline == data.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        message.history.append(self._snapshot(message))
        _set_or_pop(data, "reply_markup", inline)
        data["edit_date"] = int(time.time())
        self.world.store(chat, message)
        return data

    def _delete(self, chat: ChatState, message_id: int) -> bool:
        message = self.world.message_or_none(chat.id, message_id)
        if message is None:
            return False
        message.deleted = True
        keyboard = chat.reply_keyboard
        if keyboard is not None and keyboard.get("message_id") == message_id:
            # Telegram clients drop a reply keyboard together with the message that brought
            # it; aiogram-dialog relies on this when it leaves a window with a reply keyboard.
            chat.reply_keyboard = None
        self.world.touch(chat)
        return True

    @bot_method("deleteMessage")
    async def delete_message(self, params: dict[str, Any]) -> bool:
        chat = self.chat(params["chat_id"], sending=False)
        if not self._delete(chat, int(params["message_id"])):
            raise bad_request("message to delete not found")
        return True

    @bot_method("deleteMessages")
    async def delete_messages(self, params: dict[str, Any]) -> bool:
        chat = self.chat(params["chat_id"], sending=False)
        ids = [int(i) for i in params["message_ids"]]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for message_id in ids:
            self._delete(chat, message_id)
        return True

    @bot_method("answerCallbackQuery")
    async def answer_callback_query(self, params: dict[str, Any]) -> bool:
        world = self.world
        query = world.callbacks.get(str(params["callback_query_id"]))
        if (
            query is None
            or query.answer is not None
            or time.monotonic() - query.created > world.callback_answer_timeout
        ):
            raise ApiError(400, QUERY_TOO_OLD)
        url = params.get("url")
        if url and not str(url).startswith(f"https://t.me/{world.bot_user['username']}"):
            raise bad_request("URL_INVALID")
        query.answer = {
            "text": params.get("text"),
            "show_alert": bool(params.get("show_alert", False)),
            "url": url,
            "cache_time": params.get("cache_time"),
            "after": round(time.monotonic() - query.created, 3),
        }
        query.done.set()
        world.touch(world.chats.get(query.chat_id))
        return True


def _set_or_pop(data: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value

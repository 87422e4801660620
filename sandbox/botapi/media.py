"""Bot API methods that send media: ``sendPhoto`` by a file id (a photo a person sent, as
Done's proof shown again to an agent after ``/status``; issue 19).

Why apart from :mod:`~sandbox.botapi.messages`: the same rules for the chat, the reply
target, the inline keyboard and the flood limits (inherited), and a caption instead of a
text (at most 1024 characters after parsing). Uploads are not supported: the sandbox keeps
no files, so a photo is named by the file id of one it has seen.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.botapi.common import bot_method
from sandbox.botapi.messages import MessageMethods
from sandbox.errors import bad_request
from sandbox.records import StoredMessage

MAX_CAPTION = 1024


class MediaMethods(MessageMethods):
    """sendPhoto (by file id)."""

    @bot_method("sendPhoto")
    async def send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat(params["chat_id"], sending=True)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo or photo.startswith("attach://"):
            raise bad_request("the sandbox sends photos by file id only")
        data: dict[str, Any] = {
            "message_id": 0,
            "from": self.world.bot_from(),
            "chat": dict(chat.chat),
            "date": int(time.time()),
            "photo": [
                {
                    "file_id": photo,
                    "file_unique_id": f"u{abs(hash(photo)) % 10**8}",
                    "width": 800,
                    "height": 600,
                }
            ],
        }
        caption = params.get("caption")
        if caption:
            parsed = self._parse_text(caption, params.get("parse_mode"), None)
            if len(parsed.text) > MAX_CAPTION:
                raise bad_request("message caption is too long")
            data["caption"] = parsed.text
            if parsed.entities:
                data["caption_entities"] = parsed.entities
        markup = params.get("reply_markup")
        inline = self._inline_markup(markup)
        target = self._reply_target(chat, params)
        self._check_rate(chat)
        data["message_id"] = chat.take_message_id()
        if target is not None:
            data["reply_to_message"] = self.world.reply_copy(target)
        if inline is not None:
            data["reply_markup"] = inline
        message = StoredMessage(chat.id, data["message_id"], data, True, "photo")
        chat.action = None
        self.world.store(chat, message)
        return data

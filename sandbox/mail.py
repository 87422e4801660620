"""Read the e-mails the bot "sent" in sandbox mode: the ``*.eml`` files of the mail folder.

Why: without SMTP settings the bot's mail adapter writes each message as an .eml file; the
page's third pane and the tests read them back here, through the standard ``email`` package,
exactly as a mail client would see them (decoded headers, the text and the HTML part). Parsed
files are cached by (size, mtime) because the page polls.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any


class MailBox:
    """The .eml files of one folder (searched recursively), newest first."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._cache: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}

    def list(self) -> list[dict[str, Any]]:
        if self.folder is None or not self.folder.is_dir():
            return []
        mails: list[dict[str, Any]] = []
        seen: set[Path] = set()
        for path in self.folder.rglob("*.eml"):
            try:
                stat = path.stat()
            except OSError:
                continue
            seen.add(path)
            key = (stat.st_size, stat.st_mtime_ns)
            cached = self._cache.get(path)
            if cached is None or cached[0] != key:
                try:
                    parsed = parse_eml(path.read_bytes())
                except OSError:
                    continue
                parsed["file"] = str(path.relative_to(self.folder))
                parsed["mtime"] = stat.st_mtime
                cached = (key, parsed)
                self._cache[path] = cached
            mails.append(cached[1])
        for gone in set(self._cache) - seen:
            del self._cache[gone]
        mails.sort(key=lambda m: (m.get("timestamp") or m["mtime"], m["file"]), reverse=True)
        return mails


def parse_eml(raw: bytes) -> dict[str, Any]:
    """The fields the page shows: to, from, subject, date, text and HTML parts."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # what policy.default parses into
        raise TypeError("not an EmailMessage")
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    date = message.get("Date")
    timestamp = None
    if date:
        try:
            timestamp = parsedate_to_datetime(str(date)).timestamp()
        except (TypeError, ValueError):
            timestamp = None
    attachments = [
        {"filename": part.get_filename(), "content_type": part.get_content_type()}
        for part in message.iter_attachments()
    ]
    return {
        "to": str(message.get("To", "")),
        "from": str(message.get("From", "")),
        "subject": str(message.get("Subject", "")),
        "date": str(date or ""),
        "timestamp": timestamp,
        "message_id": str(message.get("Message-ID", "")),
        "language": str(message.get("Content-Language", "")),
        "text": _content(text_part),
        "html": _content(html_part),
        "attachments": attachments,
    }


def _content(part: Any) -> str | None:
    if part is None:
        return None
    try:
        return str(part.get_content())
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")

"""E-mail adapters implementing the ``Mailer`` port of ``workflows.ports``.

* :class:`SmtpMailer` delivers through an SMTP relay with aiosmtplib.
* :class:`FileMailer` writes ``.eml`` files into a directory (development, sandbox, tests).

Both send the same MIME message, built by :func:`build_mime`: ``multipart/alternative`` with
a UTF-8 plain-text part and a UTF-8 HTML part (quoted-printable, so the message is 7-bit
clean on any relay), RFC 2047-encoded headers for Azerbaijani/Russian subjects and names,
``Message-ID`` derived from the outbox ``message_id`` (so a resend is recognisable), ``Date``
in Baku time from the injected clock (``+0400``: the reader's client shows the hour the
utility sent it at, and RFC 5322 allows any offset), ``Content-Language`` when the message
says its language, and ``Auto-Submitted: auto-generated`` (RFC 3834: no vacation
auto-replies, please).

Failures are reported as :class:`~workflows.ports.MailError`; ``permanent=True`` means a retry
cannot help (5xx replies: unknown mailbox, rejected message, bad credentials; malformed
message), ``permanent=False`` covers everything a later attempt may cure (connection refused,
timeouts, TLS problems, 4xx replies, missing server features).

The recipient address is personal data: it is logged at DEBUG only, never in a ``MailError``
reason; everything else identifies the message by its ``message_id``.
"""

from __future__ import annotations

import asyncio
import email.message
import email.policy
import email.utils
import hashlib
import logging
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

import aiosmtplib

from workflows.clock import BAKU, SystemClock
from workflows.ports import Clock, EmailMessage, MailError

__all__ = ["FileMailer", "Security", "SmtpMailer", "build_mime"]

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]

_LINE_BREAKS = re.compile(r"[\r\n]+")
_MSG_ID_CHARS = re.compile(r"[!-~]+")  # printable ASCII, no spaces
_ENHANCED_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def _one_line(value: str) -> str:
    """A header value without line breaks (they would be a header injection)."""
    return _LINE_BREAKS.sub(" ", value).strip()


def _message_id_header(message_id: str, mail_from: str) -> str:
    """``<left@right>`` from the outbox id; a bare id gets the sender's domain on the right."""
    inner = message_id.strip().removeprefix("<").removesuffix(">")
    if not _MSG_ID_CHARS.fullmatch(inner):
        raise MailError("invalid message id", permanent=True)
    if "@" not in inner:
        domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
        inner = f"{inner}@{domain}"
    return f"<{inner}>"


def build_mime(
    message: EmailMessage, mail_from: str, *, date: datetime | None = None
) -> email.message.EmailMessage:
    """The MIME message for ``message`` sent by ``mail_from`` (``addr`` or ``Name <addr>``).

    ``date`` (aware; default: the system's now) becomes the ``Date`` header, in Baku time.
    Raises a permanent ``MailError`` when the input cannot make a valid message (e.g. no
    recipient address, a naive date).
    """
    mime = email.message.EmailMessage(policy=email.policy.SMTP)
    try:
        if date is not None and date.utcoffset() is None:
            raise ValueError("naive date")
        when = (date or SystemClock().now()).astimezone(BAKU)
        mime["From"] = _one_line(mail_from)
        mime["To"] = _one_line(message.to)
        mime["Subject"] = _one_line(message.subject)
        mime["Date"] = email.utils.format_datetime(when)
        mime["Message-ID"] = _message_id_header(message.message_id, mail_from)
        mime["Auto-Submitted"] = "auto-generated"
        mime.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        mime.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
        # After the content: setting it clears every Content-* header.
        if message.language and _LANGUAGE_TAG.fullmatch(message.language):
            mime["Content-Language"] = message.language
    except (ValueError, TypeError) as exc:  # malformed header value, naive date, ...
        raise MailError(f"cannot build message: {type(exc).__name__}", permanent=True) from exc
    if not mime["To"].addresses or not mime["From"].addresses:
        raise MailError("cannot build message: no sender or recipient address", permanent=True)
    return mime


def _smtp_reason(exc: aiosmtplib.SMTPResponseException) -> str:
    """``SMTPAuthenticationError 535 5.7.8``; the server's text may echo the address: omitted."""
    status = _ENHANCED_STATUS.match(exc.message or "")
    suffix = f" {status.group(1)}" if status else ""
    return f"{type(exc).__name__} {exc.code}{suffix}"


class SmtpMailer:
    """Delivers through an SMTP relay; one connection per message.

    ``security``: ``"tls"`` is implicit TLS (port 465), ``"starttls"`` upgrades a plain
    connection (port 587) and fails if the server cannot, ``"none"`` never encrypts (a
    relay on localhost or in a private network). Login happens when ``username`` is set.
    ``timeout`` bounds each SMTP operation (connect, every command), in seconds.
    ``local_hostname`` is the EHLO name; by default aiosmtplib asks ``socket.getfqdn()``.
    ``clock`` dates the messages (the ``Date`` header).
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        security: Security,
        mail_from: str,
        timeout: float = 15.0,
        *,
        local_hostname: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"unknown SMTP security mode: {security!r}")
        self._host = host
        self._port = port
        self._username = username or None
        self._password = password if self._username else None
        self._security = security
        self._mail_from = mail_from
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._clock = clock or SystemClock()

    async def send(self, message: EmailMessage) -> None:
        mime = build_mime(message, self._mail_from, date=self._clock.now())
        log.debug("sending e-mail %s to %s", message.message_id, message.to)
        try:
            await aiosmtplib.send(
                mime,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",  # False: no opportunistic upgrade
                timeout=self._timeout,
                local_hostname=self._local_hostname,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({refused.code for refused in exc.recipients})
            error = MailError(
                f"recipient refused: {', '.join(map(str, codes))}",
                permanent=any(code >= 500 for code in codes),
            )
            raise self._failed(message, error) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx: a permanent reply (550 unknown mailbox, 554 rejected, 535 bad credentials).
            # 4xx: transient (421 closing, 450/451 greylisting, 452 full).
            error = MailError(_smtp_reason(exc), permanent=exc.code >= 500)
            raise self._failed(message, error) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Connection refused/reset, timeouts, TLS errors, unsupported STARTTLS/AUTH:
            # the server or its configuration may be back to normal on the next attempt.
            error = MailError(f"{type(exc).__name__}: SMTP server unavailable", permanent=False)
            raise self._failed(message, error) from exc
        log.info("e-mail %s sent", message.message_id)

    @staticmethod
    def _failed(message: EmailMessage, error: MailError) -> MailError:
        log.warning(
            "e-mail %s not sent (%s): %s",
            message.message_id,
            "permanent" if error.permanent else "temporary",
            error,
        )
        return error


def _eml_name(message_id: str) -> str:
    """A safe, stable file name: the readable part of the id plus a hash of the whole id.

    The hash keeps ids apart that sanitise to the same text (``a@b`` and ``a_b``).
    """
    inner = message_id.strip().removeprefix("<").removesuffix(">")
    readable = _UNSAFE_FILE_CHARS.sub("_", inner).strip("._-")[:80] or "message"
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}.eml"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".eml.tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class FileMailer:
    """Writes each message as ``<directory>/<sanitised message id>-<hash>.eml``.

    The name depends on ``message_id`` only, so sending the same outbox row twice overwrites
    one file instead of making two (idempotent, like the outbox itself). There is no time
    prefix in the name for that reason; the order in which messages were written is in each
    file's ``Date`` header (and its mtime). The file is written to a temporary name in the
    same directory and renamed over the target, so a reader never sees half a message.
    The directory is created when missing. ``clock`` dates the messages (the ``Date`` header).
    """

    def __init__(
        self,
        directory: Path,
        *,
        mail_from: str = "noreply@localhost",
        clock: Clock | None = None,
    ) -> None:
        self._directory = Path(directory)
        self._mail_from = mail_from
        self._clock = clock or SystemClock()

    def path_for(self, message_id: str) -> Path:
        """Where the message with this id is (or will be) written."""
        return self._directory / _eml_name(message_id)

    async def send(self, message: EmailMessage) -> None:
        mime = build_mime(message, self._mail_from, date=self._clock.now())
        path = self.path_for(message.message_id)
        log.debug("writing e-mail %s to %s for %s", message.message_id, path, message.to)
        try:
            await asyncio.to_thread(_write_atomically, path, mime.as_bytes())
        except OSError as exc:
            log.warning("e-mail %s not written: %s", message.message_id, exc.strerror)
            raise MailError(f"cannot write {path.name}: {exc.strerror}") from exc
        log.info("e-mail %s written to %s", message.message_id, path.name)

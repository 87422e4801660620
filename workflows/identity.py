"""Who the subscriber is: the proofs an account gives of a FIN, and what it may see.

A FIN is printed on an identity card and known to employers, landlords and neighbours: typing
it proves nothing. An account sees the applications it filed itself, and the applications of a
FIN only after proving that FIN is its own, by one of two methods:

- ``PHONE``: a contact the account shared of itself (Telegram verifies that phone) equals the
  registry's phone of a subscriber code whose owner FIN is that FIN;
- ``EGOV``: an OpenID Connect login at the state's identity provider (``bot.adapters.egov``)
  whose ID token carries that FIN.

A verification is stored (account, FIN, method, when); ``/logout`` drops the account's. One FIN
may be verified on several accounts (a family phone); every verification and log-out is an
audit event that agents can see, without the FIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from workflows.models import Application, Subscriber


class IdentityMethod(StrEnum):
    """How the applicant of an application was identified."""

    TYPED = "typed"  # the FIN was typed: nothing proved
    PHONE = "phone"  # a Telegram-verified phone equals the registry's
    EGOV = "egov"  # the e-gov login


class AuditAction(StrEnum):
    VERIFIED = "verified"
    LOGGED_OUT = "logged_out"
    ERASED = "erased"
    RETENTION = "retention"


@dataclass(frozen=True, slots=True)
class Verification:
    telegram_user_id: int
    fin: str
    method: IdentityMethod
    at: datetime


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened to personal data, without the data: ``subject`` is an id
    (``tg:<user id>``), ``detail`` a method or a count, never a FIN, phone or e-mail."""

    at: datetime
    actor: str
    action: AuditAction
    subject: str | None = None
    detail: str | None = None


def account_subject(telegram_user_id: int) -> str:
    return f"tg:{telegram_user_id}"


@dataclass(frozen=True, slots=True)
class Viewer:
    """An account with what it has proved: the FINs verified on it (with how) and the phone
    Telegram verified for it."""

    account: int
    verified: tuple[Verification, ...] = ()
    verified_phone: str | None = None

    def method_for(self, fin: str | None) -> IdentityMethod | None:
        """How this account proved ``fin``; None when it did not."""
        if not fin:
            return None
        for verification in self.verified:
            if verification.fin == fin:
                return verification.method
        return None

    def owns(self, fin: str | None) -> bool:
        return self.method_for(fin) is not None

    def may_see(self, app: Application) -> bool:
        """Its own filings, and every application of a FIN it proved."""
        return app.telegram_user_id == self.account or self.owns(app.fin)

    def phone_matches(self, subscriber: Subscriber) -> bool:
        """The account's Telegram-verified phone is the registry's phone of ``subscriber``."""
        return bool(self.verified_phone and subscriber.phone == self.verified_phone)

    @property
    def fins(self) -> Sequence[str]:
        return tuple(v.fin for v in self.verified)


def address_area(address: str) -> str:
    """The city and district of a registry address ("Bakı ş., Nəsimi r., Azadlıq pr. 12, m. 5"
    -> "Bakı ş., Nəsimi r."): what an account that has not proved the owner FIN may see."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    return ", ".join(parts[:2])

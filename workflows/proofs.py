"""The proofs an account gives of a FIN (``workflows.identity``), and the log-out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from workflows.identity import (
    AuditAction,
    AuditEvent,
    IdentityMethod,
    Verification,
    account_subject,
)
from workflows.ports import Clock, SubscriberRegistry, TransactionFactory, UnitOfWork, UserProfile

# The codes tried against a shared phone: those of the FIN's latest applications.
CODES_TRIED = 10


async def record_verification(uow: UnitOfWork, verification: Verification) -> None:
    """Store a proof and its audit event (no FIN in it), in the caller's unit of work."""
    await uow.verifications.add(verification)
    subject = account_subject(verification.telegram_user_id)
    await uow.audit.record(
        AuditEvent(
            at=verification.at,
            actor=subject,
            action=AuditAction.VERIFIED,
            subject=subject,
            detail=verification.method.value,
        )
    )


@dataclass(slots=True)
class Proofs:
    registry: SubscriberRegistry
    transactions: TransactionFactory
    clock: Clock

    async def verifications(self, account: int) -> Sequence[Verification]:
        async with self.transactions.read() as uow:
            return await uow.verifications.of_account(account)

    async def remember_phone(self, account: int, phone: str) -> None:
        """Keep the phone Telegram verified for the account (a contact of its own)."""
        async with self.transactions() as uow:
            profile = await uow.profiles.get(account) or UserProfile(account)
            if profile.verified_phone != phone:
                await uow.profiles.save(replace(profile, verified_phone=phone), self.clock.now())
                await uow.commit()

    async def prove_by_phone(
        self, account: int, fin: str, phone: str, codes: Iterable[str] = ()
    ) -> bool:
        """Remember the account's verified ``phone``; when it is the registry's phone of a code
        whose owner FIN is ``fin`` (``codes``, else those of the FIN's latest applications),
        the account has proved ``fin``. RegistryUnavailable when the registry is down."""
        await self.remember_phone(account, phone)
        candidates = list(dict.fromkeys(codes))
        if not candidates:
            async with self.transactions.read() as uow:
                apps = await uow.applications.of_fin(fin, limit=CODES_TRIED)
            candidates = list(dict.fromkeys(a.subscriber_code for a in apps))
        for code in candidates[:CODES_TRIED]:
            subscriber = await self.registry.lookup(code)
            if subscriber and subscriber.owner_fin == fin and subscriber.phone == phone:
                await self.prove(account, fin, IdentityMethod.PHONE)
                return True
        return False

    async def prove(self, account: int, fin: str, method: IdentityMethod) -> None:
        """Bind ``fin`` to the account (a phone match or the e-gov login said so)."""
        async with self.transactions() as uow:
            await record_verification(uow, Verification(account, fin, method, self.clock.now()))
            await uow.commit()

    async def logout(self, account: int) -> int:
        """Drop every proof of the account; returns how many there were."""
        now = self.clock.now()
        async with self.transactions() as uow:
            dropped = await uow.verifications.drop(account)
            if dropped:
                subject = account_subject(account)
                await uow.audit.record(
                    AuditEvent(now, subject, AuditAction.LOGGED_OUT, subject, str(dropped))
                )
            await uow.commit()
        return dropped

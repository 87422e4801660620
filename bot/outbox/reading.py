"""What the senders render from: the application as it is now, and its reason's label."""

from __future__ import annotations

from workflows.models import Application
from workflows.outbox.records import PermanentFailure
from workflows.ports import TransactionFactory


class ApplicationReader:
    """The current application and the label of its reason, in one short transaction."""

    def __init__(self, transactions: TransactionFactory) -> None:
        self.transactions = transactions

    async def get(
        self, number: int | None, locale: str | None = None, *, reason: bool = True
    ) -> tuple[Application, str]:
        """``reason=False``: the caller shows no reason (its code stands in for the label)."""
        if number is None:
            raise PermanentFailure("the row names no application")
        async with self.transactions() as tx:
            app = await tx.applications.get(number)
            if app is None:
                raise PermanentFailure(f"application {number} does not exist")
            if not reason:
                return app, app.reason_code
            reasons = {r.code: r for r in await tx.reasons.active()}
        found = reasons.get(app.reason_code)
        label = found.label(locale or app.locale) if found else app.reason_code
        return app, label

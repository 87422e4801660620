"""Domain errors: each names what happened, so the UI can say it in the user's language."""

from __future__ import annotations

from decimal import Decimal


class DomainError(Exception):
    """Base of every refusal the domain can give."""


class RegistryUnavailable(DomainError):
    """The subscriber registry (billing) did not answer; the user should try later."""


class SubscriberNotFound(DomainError):
    pass


class MeteredSubscriber(DomainError):
    """Only meterless subscribers may apply through this service."""


class OwnerMismatch(DomainError):
    """The registry knows an owner FIN that is not the applicant's."""


class OwnerUnknown(DomainError):
    """The registry has no owner FIN for the code, and the account's Telegram-verified phone
    is not the code's phone on record: nobody can tell the code is the applicant's."""


class IdentityRequired(DomainError):
    """REQUIRE_VERIFIED_IDENTITY: only an account that proved the owner FIN may file."""


class OpenApplicationExists(DomainError):
    """``number`` is 0 when it is not known or not to be told (the account has not proved
    the owner FIN)."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class DebtOutstanding(DomainError):
    """``debt`` is None when the amount is not to be told (the owner FIN is not proved)."""

    def __init__(self, subscriber_code: str, debt: Decimal | None) -> None:
        super().__init__(subscriber_code, debt)
        self.subscriber_code = subscriber_code
        self.debt = debt


class ReasonNotAllowed(DomainError):
    """The reason does not fit the current state of the service."""


class ApplicationNotFound(DomainError):
    pass


class WorkOrderError(DomainError):
    """A staff action that changes nothing; ``status`` tells the current state."""

    def __init__(self, number: int, status: str, actor_name: str | None = None) -> None:
        super().__init__(number, status)
        self.number = number
        self.status = status
        self.actor_name = actor_name


class AlreadyTaken(WorkOrderError):
    pass


class TakenByAnother(WorkOrderError):
    pass


class AlreadyClosed(WorkOrderError):
    pass


class NotTakenYet(WorkOrderError):
    pass


class OpenApplicationsPending(DomainError):
    """An erasure must wait: the account filed these applications and they are still open
    (the staff need their data to finish the work order)."""

    def __init__(self, numbers: tuple[int, ...]) -> None:
        super().__init__(numbers)
        self.numbers = numbers

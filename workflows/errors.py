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


class OpenApplicationExists(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class DebtOutstanding(DomainError):
    def __init__(self, subscriber_code: str, debt: Decimal) -> None:
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


class ProbeLimitReached(DomainError):
    """The account tried as many distinct values of ``kind`` ("code", "fin") as a day allows."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

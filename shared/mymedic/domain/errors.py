"""Domain errors: the application layer maps each to an HTTP status."""


class DomainError(Exception):
    """A command broke a business rule (HTTP 422)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StreamNotFound(DomainError):
    """A command addressed an aggregate that does not exist (HTTP 404)."""


class StreamAlreadyExists(DomainError):
    """A creating command addressed an aggregate that already exists (HTTP 409)."""


class UnknownReference(DomainError):
    """A command names a branch, clinician, room or price that is not in the directory
    (HTTP 422, ``unknown_reference``)."""

"""Domain errors; the HTTP layer maps each to one status code."""


class DomainError(Exception):
    """Base of the errors a person's request can cause; never a bug of ours."""


class NotFound(DomainError):
    """No such thing, or it belongs to a pair the caller is not part of (we never say which)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(DomainError):
    """The request contradicts the current state (e.g. an invite already accepted); `code`, when
    set, is a stable word a client can act on (e.g. `too_early`), beside the readable message."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Invalid(DomainError):
    """A value passed the schema but breaks a domain rule; `field` names where."""

    def __init__(self, field: str, message: str, *, words: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.words = words  # the sentence a person reads, when `message` is for programs

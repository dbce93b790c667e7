"""What can go wrong with a command, in domain terms; adapters map these to
gRPC status codes (and the gateway to HTTP)."""


class DomainError(Exception):
    """Base of every rejected command; rejecting changes nothing."""


class InvalidCommand(DomainError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(DomainError):
    pass


class AlreadyExists(DomainError):
    pass


class PreconditionFailed(DomainError):
    pass


class Forbidden(DomainError):
    pass

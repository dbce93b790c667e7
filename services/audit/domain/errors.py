"""What can go wrong in the audit domain; adapters map these to gRPC status codes
(and the gateway to HTTP). Rejecting a command changes nothing."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rejected command."""


class InvalidCommand(DomainError):
    """An argument is malformed: INVALID_ARGUMENT / 400."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(DomainError):
    """NOT_FOUND / 404."""


class Conflict(DomainError):
    """An id was already used for something else: ALREADY_EXISTS / 409."""


class PreconditionFailed(DomainError):
    """The command is well formed but the state does not allow it: FAILED_PRECONDITION / 409."""


class Forbidden(DomainError):
    """The caller's roles or identity may not do this: PERMISSION_DENIED / 403."""


class DocumentError(ValueError):
    """A configuration document (a policy, a workflow) is malformed. Names the document,
    the key path inside it (`rules[2].fields`) and what is wrong, so whoever edits the
    file can fix it."""

    def __init__(self, source: str, key_path: str, problem: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key_path or '<document>'}: {problem}")
        self.source = source
        self.key_path = key_path
        self.problem = problem
        self.line = line


class PolicyError(DocumentError):
    """A policy document is malformed."""


class WorkflowError(DocumentError):
    """An approval workflow document is malformed."""


class TooLarge(DomainError):
    """More results than one answer may carry: RESOURCE_EXHAUSTED / 413; narrow the query."""

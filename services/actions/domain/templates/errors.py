"""A template that is not valid: every problem names where it is (file, line, key path)
and what is wrong, so the author can fix them all in one pass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.actions.domain.errors import DomainError, InvalidCommand


@dataclass(frozen=True)
class Problem:
    # File name (or another label such as "tenant copy of saas@v1").
    source: str
    # 1-based line in the source; None when the template was not read from text.
    line: int | None
    # Key path inside the template, e.g. "stages[3].actions[1].evidence.threshold".
    path: str
    problem: str

    def __str__(self) -> str:
        where = self.source or "<template>"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.path or '(document)'}: {self.problem}"


class TemplateError(InvalidCommand):
    """One or more problems with a template. `source`, `line`, `path` and `problem` are
    those of the first problem (in file order); `problems` holds them all."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("a TemplateError needs at least one problem")
        first = self.problems[0]
        self.source = first.source
        self.line = first.line
        self.path = first.path
        # InvalidCommand's fields, for adapters that report one field.
        self.field = first.path
        self.problem = first.problem
        DomainError.__init__(self, "\n".join(str(p) for p in self.problems))

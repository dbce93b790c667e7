"""Coarse, role-based authorization at the edge: who may call which kind of command.

The services decide the fine-grained rules (whose opportunity, which state); the
gateway only turns away callers whose roles can never be allowed, before any call."""

from __future__ import annotations

from enum import Enum

from kernel.auth import Principal


class Operation(Enum):
    WRITE_PIPELINE = "create accounts and opportunities, move stages, record actions"
    MANAGE_TEAM = "register reps and set the team's process policies"
    MOVE_CLOCK = "move the shared test clock"


ALLOWED_ROLES: dict[Operation, frozenset[str]] = {
    Operation.WRITE_PIPELINE: frozenset({"rep", "manager", "director", "admin"}),
    Operation.MANAGE_TEAM: frozenset({"manager", "director", "admin"}),
    Operation.MOVE_CLOCK: frozenset({"admin"}),
}


def may_perform(principal: Principal, operation: Operation) -> bool:
    return principal.has_any(*ALLOWED_ROLES[operation])

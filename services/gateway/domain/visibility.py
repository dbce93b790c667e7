"""Who may see which pushed event. Tenants are walls; inside a tenant, managers and
above see every alert, everyone else only the alerts about their own deals or the
to-dos addressed to them."""

from __future__ import annotations

from typing import Protocol

from kernel.auth import Principal

# Roles that oversee a whole tenant's pipeline.
OVERSEEING_ROLES = frozenset({"manager", "director", "admin"})


class AlertAudience(Protocol):
    """The fields of an alert that decide who sees it (AlertRaised has them)."""

    tenant_id: str
    owner_id: str
    manager_id: str


class TodoAudience(Protocol):
    """The fields of a to-do that decide who sees it (TodoCreated has them)."""

    tenant_id: str
    assignee_id: str
    assignee_role: str


def may_see_alert(principal: Principal, alert: AlertAudience) -> bool:
    if alert.tenant_id != principal.tenant:
        return False
    if principal.has_any(*OVERSEEING_ROLES):
        return True
    # An alert without a manager has manager_id == "": never let an empty id match.
    return bool(principal.subject) and principal.subject in (alert.owner_id, alert.manager_id)


def may_see_todo(principal: Principal, todo: TodoAudience) -> bool:
    if todo.tenant_id != principal.tenant:
        return False
    if principal.has_any(*OVERSEEING_ROLES):
        return True
    if todo.assignee_role and todo.assignee_role in principal.roles:
        return True
    return bool(principal.subject) and principal.subject == todo.assignee_id

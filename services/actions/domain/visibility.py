"""Who may see which alert and to-do — one rule for the REST lists and the SSE push,
so the two never disagree. Tenants are walls; inside a tenant, managers and above see
every alert, everyone else only the alerts about their own deals. A to-do is seen by
its assignee, or by holders of the role it is addressed to."""

from __future__ import annotations

from typing import Protocol

from kernel.auth import MANAGING_ROLES, Principal


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
    if principal.has_any(*MANAGING_ROLES):
        return True
    # An alert without a manager has manager_id == "": never let an empty id match.
    return bool(principal.subject) and principal.subject in (alert.owner_id, alert.manager_id)


def may_see_todo(principal: Principal, todo: TodoAudience) -> bool:
    if todo.tenant_id != principal.tenant:
        return False
    if todo.assignee_role and todo.assignee_role in principal.roles:
        return True
    return bool(principal.subject) and principal.subject == todo.assignee_id

"""Who may see which rep's reports and must-do lists: a rep sees themselves, a manager
the reps reporting to them (and themselves), directors and admins the whole tenant.
One rule for the API, the SSE push and the exports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from kernel.auth import Principal
from services.actions.domain.errors import Forbidden
from services.actions.domain.reporting.compliance import RepInfo

TENANT_WIDE_ROLES = frozenset({"director", "admin"})
REPORT_ROLES = TENANT_WIDE_ROLES | {"manager", "rep"}


def may_see_rep(principal: Principal, rep_id: str, manager_id: str) -> bool:
    if principal.has_any(*TENANT_WIDE_ROLES):
        return True
    if not principal.subject:
        return False
    if principal.subject == rep_id:
        return True
    return principal.has_any("manager") and principal.subject == manager_id


def visible_reps(principal: Principal, reps: Iterable[RepInfo], team_id: str = "") -> list[RepInfo]:
    """The reps the caller may report on, optionally narrowed to one team."""
    if not principal.has_any(*REPORT_ROLES):
        raise Forbidden(f"reports need one of the roles {', '.join(sorted(REPORT_ROLES))}")
    if team_id and not principal.has_any(*TENANT_WIDE_ROLES) and team_id != principal.subject:
        raise Forbidden(f"you may see your own team only, not team {team_id!r}")
    seen = [r for r in reps if may_see_rep(principal, r.rep_id, r.team_id)]
    return [r for r in seen if r.team_id == team_id] if team_id else seen


class MustDoAudience(Protocol):
    """The fields of a published must-do list that decide who sees it."""

    tenant_id: str
    rep_id: str
    manager_id: str


def may_see_must_do(principal: Principal, must_do: MustDoAudience) -> bool:
    return must_do.tenant_id == principal.tenant and may_see_rep(principal, must_do.rep_id, must_do.manager_id)

"""Who may see which alert or to-do, and who may call what: pure rules, no I/O."""

from __future__ import annotations

import pytest

from dealpulse.actions.v1.events_pb2 import AlertRaised, TodoCreated
from kernel.auth import Principal
from services.gateway.domain.permissions import Operation, may_perform
from services.actions.domain.visibility import may_see_alert, may_see_todo


def principal(*roles: str, subject: str = "u-1", tenant: str = "acme") -> Principal:
    return Principal(subject=subject, tenant=tenant, roles=frozenset(roles))


ALERT = AlertRaised(tenant_id="acme", alert_id="a-1", owner_id="u-owner", manager_id="u-boss")


@pytest.mark.parametrize("role", ["manager", "director", "admin"])
def test_overseeing_roles_see_every_alert_of_their_tenant(role):
    assert may_see_alert(principal(role), ALERT)


def test_the_owner_and_the_owners_manager_see_the_alert():
    assert may_see_alert(principal("rep", subject="u-owner"), ALERT)
    assert may_see_alert(principal("rep", subject="u-boss"), ALERT)


def test_other_reps_do_not_see_the_alert():
    assert not may_see_alert(principal("rep", subject="u-other"), ALERT)
    assert not may_see_alert(principal("presales", subject="u-other"), ALERT)


@pytest.mark.parametrize("roles", [("admin",), ("rep",)])
def test_no_one_sees_another_tenants_alert(roles):
    assert not may_see_alert(principal(*roles, subject="u-owner", tenant="globex"), ALERT)


def test_an_empty_manager_id_matches_no_one():
    alert = AlertRaised(tenant_id="acme", owner_id="u-owner", manager_id="")
    assert not may_see_alert(principal("rep", subject=""), alert)


def test_a_todo_is_seen_by_its_assignee_and_by_holders_of_its_role_only():
    todo = TodoCreated(tenant_id="acme", assignee_id="u-boss")
    by_role = TodoCreated(tenant_id="acme", assignee_role="presales")
    assert may_see_todo(principal("rep", subject="u-boss"), todo)
    assert not may_see_todo(principal("rep", subject="u-other"), todo)
    assert may_see_todo(principal("presales"), by_role)
    assert not may_see_todo(principal("rep"), by_role)
    assert not may_see_todo(principal("director"), todo)  # the REST list shows it only on request
    assert may_see_todo(principal("director", subject="u-boss"), todo)
    assert not may_see_todo(principal("director", tenant="globex", subject="u-boss"), todo)


@pytest.mark.parametrize(
    ("role", "operation", "allowed"),
    [
        ("rep", Operation.WRITE_PIPELINE, True),
        ("presales", Operation.WRITE_PIPELINE, False),
        ("finance", Operation.WRITE_PIPELINE, False),
        ("rep", Operation.MANAGE_TEAM, False),
        ("manager", Operation.MANAGE_TEAM, True),
        ("director", Operation.MANAGE_TEAM, True),
        ("manager", Operation.MOVE_CLOCK, False),
        ("admin", Operation.MOVE_CLOCK, True),
    ],
)
def test_who_may_call_what(role, operation, allowed):
    assert may_perform(principal(role), operation) is allowed

"""The shipped policy SEC-SALES-2026-01 allows every legitimate write the actions
service asks Check about (with the fields and record state it sends), and keeps the
closed-won lock on the customer."""

import pytest

from services.actions.adapters.grpc_api import OPEN_FIELDS
from services.actions.adapters.lead_grpc import CREATED_FIELDS
from services.actions.domain import accounts
from services.audit import bootstrap
from services.audit.domain import policies

POLICY = ("SEC-SALES-2026-01", 1)


@pytest.fixture(scope="module")
def policy():
    return policies.load_templates()[POLICY]


def decide(policy, roles, entity, state, fields, actor):
    return {f: policies.decide(policy, frozenset(roles), entity, state, f, actor_id=actor) for f in fields}


def allowed(policy, roles, entity, state, fields, actor="bob"):
    decisions = decide(policy, roles, entity, state, fields, actor)
    return all(d.allowed for d in decisions.values()), {f: d.rule_id for f, d in decisions.items()}


def test_it_is_the_policy_check_decides_by():
    assert bootstrap.ACTIVE_TEMPLATE == POLICY


@pytest.mark.parametrize(
    "roles, entity, state, fields, actor",
    [
        # a rep's own pipeline
        ({"rep"}, "account", accounts.record_state(None, customer_won=False, owner_id="bob"), ("name", "industry", "owner_id"), "bob"),
        ({"rep"}, "account", {"exists": True, "owner_id": "bob", "customer_won": False, "grade": ""},
         ("address", "latitude", "longitude", "decision_maker", "grade", accounts.MARKETING_CONTACT_FIELD), "bob"),
        ({"rep"}, "account", {"exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"}, accounts.CONTACT_FIELDS, "bob"),
        ({"rep"}, "opportunity", {"exists": False, "owner_id": "bob", "stage": "lead"}, OPEN_FIELDS, "bob"),
        ({"rep"}, "opportunity", {"exists": True, "owner_id": "bob", "stage": "negotiation"}, ("stage", "actions", "alert_status"), "bob"),
        # management
        ({"manager"}, "rep", {"exists": False}, ("display_name", "manager_id"), "ann"),
        ({"manager"}, "tenant_policy", {"exists": True}, ("stall_threshold_seconds", "dwell_factor"), "ann"),
        ({"manager"}, "template", {"exists": False}, ("document",), "ann"),
        ({"manager"}, "opportunity", {"exists": False, "owner_id": "bob", "stage": "lead"}, OPEN_FIELDS, "ann"),
        ({"manager"}, "account", {"exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"},
         ("address", "owner_id", accounts.MARKETING_CONTACT_FIELD), "ann"),
        ({"director"}, "lead", {"exists": False, "owner_id": "bob"}, ("owner_id", "name"), "dora"),
        ({"rep"}, "lead", {"exists": True, "owner_id": "bob"}, ("opportunity_id", "status"), "bob"),
        ({"rep"}, "lead", {"exists": False, "owner_id": ""}, CREATED_FIELDS, "bob"),
        ({"rep"}, "lead", {"exists": False, "owner_id": "bob"}, (*CREATED_FIELDS, "owner_id"), "bob"),
        ({"manager"}, "lead", {"exists": True, "owner_id": "bob"}, ("owner_id",), "ann"),
    ],
)
def test_legitimate_writes_are_allowed(policy, roles, entity, state, fields, actor):
    ok, rules = allowed(policy, roles, entity, state, fields, actor)
    assert ok, rules


@pytest.mark.parametrize(
    "roles, entity, state, field, actor, rule",
    [
        ({"rep"}, "account", {"exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"}, "grade", "bob",
         "customer-grade-locked-after-win"),
        ({"manager"}, "account", {"exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"}, "grade", "ann",
         "customer-grade-locked-after-win"),
        ({"rep"}, "account", {"exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"}, "address", "bob",
         "rep-contact-only-after-won"),
        ({"rep"}, "account", {"exists": True, "owner_id": "amy", "customer_won": False, "grade": ""}, "address", "bob", "default"),
        ({"rep"}, "account", {"exists": True, "owner_id": "bob", "customer_won": False, "grade": ""}, "owner_id", "bob", "default"),
        ({"rep"}, "opportunity", {"exists": False, "owner_id": "amy", "stage": "lead"}, "owner_id", "bob", "default"),
        ({"rep"}, "rep", {"exists": False}, "manager_id", "bob", "default"),
        ({"rep"}, "tenant_policy", {"exists": True}, "dwell_factor", "bob", "default"),
        ({"rep"}, "lead", {"exists": True, "owner_id": "amy"}, "status", "bob", "default"),
        ({"rep"}, "lead", {"exists": True, "owner_id": "bob"}, "owner_id", "bob", "default"),
        ({"rep"}, "account", {"exists": True, "owner_id": "bob", "grade": "B"}, "grade", "bob", "missing-state"),
    ],
)
def test_what_the_policy_refuses(policy, roles, entity, state, field, actor, rule):
    decision = policies.decide(policy, frozenset(roles), entity, state, field, actor_id=actor)
    assert (decision.allowed, decision.rule_id) == (False, rule)
    if rule == "customer-grade-locked-after-win":
        assert decision.approval_workflow == "customer_grade_change"

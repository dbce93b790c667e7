import copy
import itertools
from pathlib import Path

import pytest
import yaml

from services.audit.domain import policies as pol
from services.audit.domain.workflows import load_workflows
from services.audit.domain.errors import Conflict, NotFound, PolicyError
from services.audit.domain.roles import KNOWN_ROLES

SEC = ("SEC-SALES-2026-01", 1)
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email", "contact_title")
STAGES = ("lead", "qualification", "needs_diagnosis", "proposal", "negotiation", "closed_won", "closed_lost")


@pytest.fixture(scope="module")
def templates():
    return pol.load_templates()


@pytest.fixture(scope="module")
def sec(templates):
    return templates[SEC]


def opportunity(stage, owner="rep-1"):
    return {"stage": stage, "owner_id": owner}


def decide(policy, roles, stage, field, actor="rep-1", owner="rep-1"):
    return pol.decide(policy, frozenset(roles), "opportunity", opportunity(stage, owner), field, actor_id=actor)


# --- the shipped template SEC-SALES-2026-01 --------------------------------------------


def test_the_template_loads_with_its_id_version_and_rules(sec):
    assert (sec.id, sec.version, sec.default_allow) == ("SEC-SALES-2026-01", 1, False)
    assert sec.rule_ids[0] == "grade-locked-after-closed-won"
    assert sec.source.endswith("SEC-SALES-2026-01.yaml")


def test_rep_editing_grade_after_closed_won_is_denied_naming_the_rule(sec):
    decision = decide(sec, {"rep"}, "closed_won", "grade")
    assert decision.allowed is False
    assert decision.rule_id == "grade-locked-after-closed-won"
    assert "grade-locked-after-closed-won" in decision.reason and "SEC-SALES-2026-01 v1" in decision.reason
    assert decision.approval_workflow == "customer_grade_change"
    assert (decision.policy_id, decision.policy_version) == SEC


@pytest.mark.parametrize("roles", [{"manager"}, {"director"}, {"admin"}, {"finance"}, set(KNOWN_ROLES)])
def test_nobody_edits_grade_directly_after_closed_won(sec, roles):
    decision = decide(sec, roles, "closed_won", "grade", actor="someone")
    assert (decision.allowed, decision.rule_id) == (False, "grade-locked-after-closed-won")


def decide_account(policy, roles, won, field="grade", actor="rep-1", owner="rep-1"):
    state = {"customer_won": won, "owner_id": owner}
    return pol.decide(policy, frozenset(roles), "account", state, field, actor_id=actor)


@pytest.mark.parametrize("roles", [{"rep"}, {"manager"}, {"director"}, {"admin"}, {"finance"}])
def test_nobody_grades_a_won_customer_directly_only_through_the_approval(sec, roles):
    decision = decide_account(sec, roles, True, actor="someone", owner="someone")
    assert (decision.allowed, decision.rule_id) == (False, "customer-grade-locked-after-win")
    assert decision.approval_workflow == "customer_grade_change"


def test_before_the_win_the_owner_and_management_grade_the_account(sec):
    assert decide_account(sec, {"rep"}, False).allowed
    assert not decide_account(sec, {"rep"}, False, owner="rep-2").allowed
    assert decide_account(sec, {"manager"}, False, actor="mgr-1").allowed
    assert not decide_account(sec, {"finance"}, False, actor="fin-1").allowed


def test_a_grade_check_without_the_won_fact_fails_closed(sec):
    decision = pol.decide(sec, frozenset({"rep"}), "account", {"owner_id": "rep-1"}, "grade", actor_id="rep-1")
    assert (decision.allowed, decision.rule_id) == (False, "missing-state")


@pytest.mark.parametrize("field", CONTACT_FIELDS)
def test_owning_rep_edits_contact_fields_after_closed_won(sec, field):
    decision = decide(sec, {"rep"}, "closed_won", field)
    assert (decision.allowed, decision.rule_id) == (True, "rep-edits-contact-of-own-closed-won")


@pytest.mark.parametrize("field", ["amount_cents", "name", "owner_id", "stage", "close_date", "anything_new"])
def test_rep_edits_nothing_else_after_closed_won(sec, field):
    decision = decide(sec, {"rep"}, "closed_won", field)
    assert (decision.allowed, decision.rule_id) == (False, "rep-contact-only-after-closed-won")


def test_another_reps_closed_won_contacts_are_not_theirs_to_edit(sec):
    decision = decide(sec, {"rep"}, "closed_won", "contact_phone", actor="rep-2")
    assert (decision.allowed, decision.rule_id) == (False, "default")


@pytest.mark.parametrize("roles", [{"manager"}, {"director"}, {"admin"}])
def test_management_edits_contacts_but_nothing_else_after_closed_won(sec, roles):
    assert decide(sec, roles, "closed_won", "contact_email", actor="boss").allowed
    assert not decide(sec, roles, "closed_won", "amount_cents", actor="boss").allowed


def test_rep_may_set_grade_on_their_own_open_opportunity(sec):
    # The lock starts at closed-won: while selling, the grade is the owner's working estimate.
    decision = decide(sec, {"rep"}, "proposal", "grade")
    assert (decision.allowed, decision.rule_id) == (True, "rep-edits-own-open-opportunity")


def test_rep_cannot_reassign_their_open_opportunity_but_a_manager_can(sec):
    decision = decide(sec, {"rep"}, "proposal", "owner_id")
    assert (decision.allowed, decision.rule_id) == (False, "default")
    decision = decide(sec, {"manager"}, "proposal", "owner_id", actor="mgr-1")
    assert (decision.allowed, decision.rule_id) == (True, "overseers-edit-open-opportunities")


def test_rep_cannot_edit_another_reps_open_opportunity(sec):
    assert not decide(sec, {"rep"}, "negotiation", "amount_cents", actor="rep-2").allowed


@pytest.mark.parametrize("roles", [{"presales"}, {"delivery"}, {"finance"}, {"marketing"}, set()])
def test_roles_the_template_does_not_name_edit_nothing(sec, roles):
    for stage, field in itertools.product(STAGES, ("grade", "contact_phone", "amount_cents")):
        decision = decide(sec, roles, stage, field, actor="x")
        assert not decision.allowed, (stage, field)


@pytest.mark.parametrize("roles", [{"rep"}, {"manager"}, {"admin"}])
def test_closed_lost_opportunities_are_frozen(sec, roles):
    for field in ("grade", "contact_phone", "amount_cents"):
        assert not decide(sec, roles, "closed_lost", field).allowed


def test_roles_may_come_as_any_iterable(sec):
    state = opportunity("closed_won")
    for roles in (["rep"], ("rep",), (r for r in ["rep"])):
        decision = pol.decide(sec, roles, "opportunity", state, "contact_phone", actor_id="rep-1")
        assert decision.allowed


def test_a_deny_rule_binds_every_role_an_editor_holds(sec):
    # Deny overrides: a manager who is also a rep is bound by the rep's closed-won lock.
    decision = decide(sec, {"rep", "manager"}, "closed_won", "amount_cents")
    assert (decision.allowed, decision.rule_id) == (False, "rep-contact-only-after-closed-won")


def test_grade_lock_points_to_a_shipped_workflow_that_changes_the_locked_field(sec):
    rule = sec.rule("grade-locked-after-closed-won")
    workflow = load_workflows().latest(rule.via_approval)
    assert workflow.field == "grade" and rule.covers("grade")


# --- semantics ------------------------------------------------------------------------


def test_outcomes_do_not_depend_on_rule_order(sec):
    reversed_policy = pol.Policy(sec.id, sec.version, sec.description, False, sec.rules[::-1])
    fields = ("grade", "owner_id", "amount_cents", *CONTACT_FIELDS)
    for roles, stage, field, actor in itertools.product(
        [{"rep"}, {"manager"}, {"rep", "manager"}, {"finance"}], STAGES, fields, ["rep-1", "rep-2"]
    ):
        expected = decide(sec, roles, stage, field, actor).allowed
        assert decide(reversed_policy, roles, stage, field, actor).allowed == expected


DOC = """
id: T-1
version: 3
description: test policy
default: allow
rules:
  - id: first-deny
    description: first
    entity: deal
    when: {locked: {in: [true]}}
    roles: "*"
    fields: [price]
    effect: deny
  - id: second-deny
    description: second
    entity: deal
    roles: [rep]
    fields: "*"
    except_fields: [note]
    effect: deny
  - id: level-one
    description: numbers compare as numbers
    entity: deal
    when: {level: {in: [1]}}
    roles: [manager]
    fields: [price]
    effect: deny
"""


def test_the_first_matching_deny_in_document_order_is_named():
    policy = pol.load_policy(DOC, "t.yaml")
    decision = pol.decide(policy, {"rep"}, "deal", {"locked": True, "level": 0}, "price")
    assert decision.rule_id == "first-deny"
    decision = pol.decide(policy, {"rep"}, "deal", {"locked": False, "level": 0}, "price")
    assert decision.rule_id == "second-deny"


def test_default_allow_decides_what_no_rule_covers():
    policy = pol.load_policy(DOC, "t.yaml")
    decision = pol.decide(policy, {"rep"}, "deal", {"locked": True, "level": 0}, "note")
    assert (decision.allowed, decision.rule_id) == (True, "default")
    assert "the default allows it" in decision.reason
    assert pol.decide(policy, {"rep"}, "account", {}, "name").allowed
    assert (decision.policy_id, decision.policy_version) == ("T-1", 3)


def test_condition_values_match_by_type_so_true_is_not_one():
    policy = pol.load_policy(DOC, "t.yaml")
    assert pol.decide(policy, {"manager"}, "deal", {"locked": 1, "level": True}, "price").allowed
    assert pol.decide(policy, {"manager"}, "deal", {"locked": False, "level": 1}, "price").rule_id == "level-one"


def test_an_unhashable_state_value_matches_no_listed_value():
    policy = pol.load_policy(DOC, "t.yaml")
    assert pol.decide(policy, {"manager"}, "deal", {"locked": ["x"], "level": 0}, "price").allowed


def test_missing_state_fails_closed_naming_the_key(sec):
    decision = pol.decide(sec, {"rep"}, "opportunity", {"owner_id": "rep-1"}, "grade", actor_id="rep-1")
    assert (decision.allowed, decision.rule_id) == (False, "missing-state")
    assert "'stage'" in decision.reason and "grade-locked-after-closed-won" in decision.reason


def test_an_allow_rule_that_cannot_be_evaluated_allows_nothing(sec):
    # No actor id: the owner_only allow rule cannot apply, and no deny rule needs the actor.
    decision = pol.decide(sec, {"rep"}, "opportunity", {"stage": "proposal", "owner_id": "rep-1"}, "grade")
    assert (decision.allowed, decision.rule_id) == (False, "default")


def test_owner_only_deny_rule_without_the_owner_fails_closed():
    text = DOC.replace('    roles: [rep]\n    fields: "*"', '    roles: [rep]\n    owner_only: true\n    fields: "*"')
    policy = pol.load_policy(text, "t.yaml")
    decision = pol.decide(policy, {"rep"}, "deal", {"locked": False, "level": 0}, "price", actor_id="rep-1")
    assert decision.rule_id == "missing-state" and "'owner_id'" in decision.reason
    decision = pol.decide(policy, {"rep"}, "deal", {"locked": False, "level": 0, "owner_id": "rep-1"}, "price")
    assert decision.rule_id == "missing-state" and "actor_id" in decision.reason
    state = {"locked": False, "level": 0, "owner_id": "rep-2"}
    assert pol.decide(policy, {"rep"}, "deal", state, "price", actor_id="rep-1").allowed


# --- bad documents --------------------------------------------------------------------

BASE = {
    "id": "ACME-1",
    "version": 1,
    "description": "base",
    "default": "deny",
    "rules": [
        {"id": "a", "description": "a", "entity": "opportunity", "roles": ["rep"], "fields": ["x"], "effect": "allow"},
        {
            "id": "b",
            "description": "b",
            "entity": "opportunity",
            "when": {"stage": {"in": ["closed_won"]}},
            "roles": "*",
            "fields": "*",
            "except_fields": ["x"],
            "effect": "deny",
        },
        {"id": "c", "description": "c", "entity": "account", "roles": ["manager"], "fields": ["y"], "effect": "allow"},
    ],
}


def mutated(change):
    doc = copy.deepcopy(BASE)
    change(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def test_the_base_document_is_valid():
    assert pol.load_policy(mutated(lambda d: None), "bad.yaml").rule_ids == ("a", "b", "c")


@pytest.mark.parametrize(
    "change, key_path, problem",
    [
        (lambda d: d.update(owner="me"), "owner", "unknown key"),
        (lambda d: d["rules"][1].update(feilds=["x"]), "rules[1].feilds", "unknown key"),
        (lambda d: d["rules"][2].update(id="a"), "rules[2].id", "duplicate rule id 'a' (first at rules[0])"),
        (lambda d: d["rules"][0].pop("fields"), "rules[0].fields", "is required"),
        (lambda d: d.pop("description"), "description", "is required"),
        (lambda d: d.pop("default"), "default", "is required"),
        (lambda d: d["rules"][0].update(roles=["rep", "sales"]), "rules[0].roles[1]", "unknown role 'sales'"),
        (lambda d: d["rules"][0].update(roles="rep"), "rules[0].roles", 'must be "*" or a non-empty list'),
        (lambda d: d["rules"][0].update(roles=[]), "rules[0].roles", 'must be "*" or a non-empty list'),
        (lambda d: d["rules"][0].update(roles=["rep", "rep"]), "rules[0].roles[1]", "listed twice"),
        (lambda d: d.update(version="1"), "version", "must be an integer of at least 1, got text '1'"),
        (lambda d: d.update(version=0), "version", "must be an integer of at least 1"),
        (lambda d: d.update(version=True), "version", "must be an integer"),
        (lambda d: d["rules"][0].update(fields=3), "rules[0].fields", "non-empty list of field names"),
        (lambda d: d["rules"][0].update(fields=["Bad Field"]), "rules[0].fields[0]", "is not a valid field name"),
        (lambda d: d["rules"][0].update(owner_only="yes"), "rules[0].owner_only", "must be true or false"),
        (lambda d: d["rules"][0].update(effect="permit"), "rules[0].effect", "one of allow, deny, got text 'permit'"),
        (lambda d: d.update(default="maybe"), "default", "must be one of allow, deny"),
        (lambda d: d.update(rules={"a": 1}), "rules", "must be a list of rules"),
        (lambda d: d["rules"].append("rule"), "rules[3]", "must be a mapping"),
        (lambda d: d["rules"][0].update(id="default"), "rules[0].id", "reserved"),
        (lambda d: d["rules"][0].update(id="Has Space"), "rules[0].id", "is not a rule id"),
        (lambda d: d.update(id="bad id!"), "id", "is not a policy id"),
        (lambda d: d["rules"][0].update(entity=""), "rules[0].entity", "must be non-empty text"),
        (lambda d: d["rules"][0].update(except_fields=["y"]), "rules[0].except_fields", 'only makes sense with fields'),
        (lambda d: d["rules"][0].update(via_approval="x"), "rules[0].via_approval", "only a deny rule"),
        (lambda d: d["rules"][1].update(when={"stage": {"is": ["x"]}}), "rules[1].when.stage.is", "unknown operator"),
        (lambda d: d["rules"][1].update(when={"stage": {"in": []}}), "rules[1].when.stage.in", "non-empty list"),
        (lambda d: d["rules"][1].update(when={"stage": {"in": [1.5]}}), "rules[1].when.stage.in[0]", "must be text"),
        (lambda d: d["rules"][1].update(when={"stage": "x"}), "rules[1].when.stage", "exactly one of: in, not_in"),
        (lambda d: d["rules"][1].update(when={"Stage": {"in": ["x"]}}), "rules[1].when.Stage", "lowercase"),
        (lambda d: d["rules"][1].update(when={}), "rules[1].when", "non-empty mapping"),
        (lambda d: d.update(remove_rules=["a"]), "remove_rules", "only a document that extends"),
        (lambda d: d.update(extends={"id": "NOPE", "version": 1}), "extends", "template NOPE v1 is not known"),
        (lambda d: d.update(extends={"id": "NOPE"}), "extends.version", "is required"),
    ],
)
def test_a_bad_document_is_rejected_naming_file_key_path_and_problem(change, key_path, problem):
    with pytest.raises(PolicyError) as caught:
        pol.load_policy(mutated(change), "policies/acme/bad.yaml")
    error = caught.value
    assert error.source == "policies/acme/bad.yaml"
    assert error.key_path == key_path
    assert problem in error.problem
    assert str(error).startswith("policies/acme/bad.yaml:")
    assert f": {key_path}: " in str(error)


def test_errors_carry_the_line_of_the_offending_key():
    text = mutated(lambda d: d["rules"][1].update(effect="permit"))
    line = next(n for n, content in enumerate(text.splitlines(), start=1) if "permit" in content)
    with pytest.raises(PolicyError) as caught:
        pol.load_policy(text, "bad.yaml")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"bad.yaml:{line}: rules[1].effect: ")


def test_a_key_written_twice_is_rejected_rather_than_silently_overwritten():
    text = "id: A\nversion: 1\ndescription: d\ndefault: deny\ndefault: allow\nrules: []\n"
    with pytest.raises(PolicyError) as caught:
        pol.load_policy(text, "dup.yaml")
    assert (caught.value.key_path, caught.value.problem, caught.value.line) == ("default", "appears twice", 5)


@pytest.mark.parametrize(
    "text, key_path, problem",
    [
        ("id: [unclosed\n", "", "not valid YAML"),
        ("", "", "must be a mapping, got nothing"),
        ("- a\n- b\n", "", "must be a mapping, got list"),
        ("id: A\n1: x\n", "", "key 1 is not text"),
        ("id: A\n---\nid: B\n", "", "not valid YAML"),
    ],
)
def test_unreadable_documents_are_rejected(text, key_path, problem):
    with pytest.raises(PolicyError) as caught:
        pol.load_policy(text, "broken.yaml")
    assert caught.value.key_path == key_path and problem in caught.value.problem
    assert "broken.yaml" in str(caught.value) and "<document>" in str(caught.value)


def test_an_empty_rule_list_is_allowed_and_the_default_decides():
    policy = pol.load_policy(mutated(lambda d: d.update(rules=[], default="allow")), "x.yaml")
    assert pol.decide(policy, {"rep"}, "opportunity", {}, "x").allowed


# --- files ----------------------------------------------------------------------------


def test_a_policy_file_must_be_named_after_its_id(tmp_path: Path):
    path = tmp_path / "wrong-name.yaml"
    path.write_text(mutated(lambda d: None), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        pol.load_policy_file(path)
    assert caught.value.key_path == "id" and "ACME-1.yaml" in caught.value.problem


def test_every_shipped_template_loads(templates):
    shipped = {p.stem for p in pol.TEMPLATES_DIR.glob("*.yaml")}
    assert {policy_id for policy_id, _ in templates} == shipped


def test_policy_roles_are_the_token_roles():
    from kernel.auth import ROLES

    assert KNOWN_ROLES == ROLES


# --- tenants: extending a template, versions ------------------------------------------

ACME_V1 = """
id: ACME-SALES
version: 1
description: Acme follows the template; finance may fix payment terms after closed-won.
extends: {id: SEC-SALES-2026-01, version: 1}
rules:
  - id: finance-payment-terms-after-closed-won
    description: finance corrects payment terms on won deals
    entity: opportunity
    when: {stage: {in: [closed_won]}}
    roles: [finance]
    fields: [payment_terms]
    effect: allow
  - id: overseers-edit-open-opportunities
    description: at Acme only directors edit other people's open opportunities
    entity: opportunity
    when: {stage: {not_in: [closed_won, closed_lost]}}
    roles: [director, admin]
    fields: "*"
    effect: allow
"""


def test_a_tenant_document_extends_a_template(templates, sec):
    acme = pol.load_policy(ACME_V1, "acme/ACME-SALES.yaml", templates)
    assert acme.based_on == SEC and acme.default_allow is False
    # Replaced rules keep their place; new ones come after the template's.
    assert acme.rule_ids == (*sec.rule_ids, "finance-payment-terms-after-closed-won")
    assert decide(acme, {"finance"}, "closed_won", "payment_terms", actor="fin-1").allowed
    assert not decide(acme, {"manager"}, "proposal", "amount_cents", actor="mgr-1").allowed
    assert decide(acme, {"director"}, "proposal", "amount_cents", actor="dir-1").allowed
    grade = decide(acme, {"rep"}, "closed_won", "grade")
    assert (grade.rule_id, grade.policy_id, grade.policy_version) == ("grade-locked-after-closed-won", "ACME-SALES", 1)


def test_adding_an_allow_rule_cannot_lift_a_template_lock(templates):
    text = ACME_V1 + """
  - id: admins-fix-anything
    description: admins fix anything
    entity: opportunity
    roles: [admin]
    fields: "*"
    effect: allow
"""
    acme = pol.load_policy(text, "acme.yaml", templates)
    assert decide(acme, {"admin"}, "closed_won", "grade", actor="root").rule_id == "grade-locked-after-closed-won"
    lifted = pol.load_policy(text + "remove_rules: [grade-locked-after-closed-won]\n", "acme.yaml", templates)
    assert decide(lifted, {"admin"}, "closed_won", "grade", actor="root").allowed


@pytest.mark.parametrize(
    "extra, key_path, problem",
    [
        ("remove_rules: [no-such-rule]\n", "remove_rules[0]", "has no rule 'no-such-rule'"),
        ("remove_rules: [overseers-edit-open-opportunities]\n", "rules[1].id", "both removed and redefined"),
        ("default: perhaps\n", "default", "must be one of allow, deny"),
    ],
)
def test_bad_extensions_are_rejected(templates, extra, key_path, problem):
    with pytest.raises(PolicyError) as caught:
        pol.load_policy(ACME_V1 + extra, "acme.yaml", templates)
    assert (caught.value.key_path, caught.value.source) == (key_path, "acme.yaml")
    assert problem in caught.value.problem


def test_a_tenant_may_override_the_default(templates):
    acme = pol.load_policy(ACME_V1 + "default: allow\n", "acme.yaml", templates)
    assert acme.default_allow and decide(acme, {"presales"}, "proposal", "tech_notes", actor="p").allowed


def test_policy_set_versions_activation_and_rollback(templates, sec):
    acme_v1 = pol.load_policy(ACME_V1, "acme.yaml", templates)
    acme_v2 = pol.load_policy(ACME_V1.replace("version: 1\ndescription", "version: 2\ndescription").replace(
        "roles: [finance]", "roles: [finance, admin]"
    ), "acme.yaml", templates)

    policies = pol.adopt_template("acme", sec)
    assert policies.active == SEC
    decision = policies.decide({"rep"}, "opportunity", opportunity("closed_won"), "grade", actor_id="rep-1")
    assert decision.policy_id == sec.id

    policies = policies.publish(acme_v1).publish(acme_v2)
    assert policies.active == SEC  # publishing is not activating

    policies = policies.activate("ACME-SALES", 2)
    decision = policies.decide({"admin"}, "opportunity", opportunity("closed_won"), "payment_terms", actor_id="root")
    assert (decision.allowed, decision.policy_id, decision.policy_version) == (True, "ACME-SALES", 2)

    policies = policies.activate("ACME-SALES", 1)  # roll back
    decision = policies.decide({"admin"}, "opportunity", opportunity("closed_won"), "payment_terms", actor_id="root")
    assert (decision.allowed, decision.policy_version) == (False, 1)


def test_publishing_is_idempotent_and_versions_only_go_forward(templates, sec):
    acme_v1 = pol.load_policy(ACME_V1, "acme.yaml", templates)
    policies = pol.adopt_template("acme", sec).publish(acme_v1)
    assert policies.publish(pol.load_policy(ACME_V1, "elsewhere.yaml", templates)) is policies
    changed = pol.load_policy(ACME_V1.replace("roles: [finance]", "roles: [admin]"), "acme.yaml", templates)
    with pytest.raises(Conflict, match="ACME-SALES v1 is already published with other content"):
        policies.publish(changed)
    v3 = pol.load_policy(ACME_V1.replace("version: 1\ndescription", "version: 3\ndescription"), "a.yaml", templates)
    policies = policies.publish(v3)
    v2 = pol.load_policy(ACME_V1.replace("version: 1\ndescription", "version: 2\ndescription"), "a.yaml", templates)
    with pytest.raises(Conflict, match="older than the published v3"):
        policies.publish(v2)


def test_a_tenant_without_an_active_policy_gets_a_clear_error():
    with pytest.raises(NotFound, match="tenant acme has no active policy"):
        pol.PolicySet("acme").decide({"rep"}, "opportunity", {}, "grade")
    with pytest.raises(NotFound, match="has no policy X v1"):
        pol.PolicySet("acme").activate("X", 1)

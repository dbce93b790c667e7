"""Field-level edit policies: who may change which field of which record, in which state.

A policy is a versioned YAML document (templates ship in `services/audit/policies/`).
It holds a `default` (allow or deny) and a list of rules; each rule names an entity
type, the fields it covers, the roles it concerns, conditions on the record's current
state, and an effect.

How a decision is made — deny overrides, order only names:
1. A rule *applies* to an edit when its entity is the record's type, its fields cover the
   field edited, the editor holds one of its roles (`"*"`: any editor), the editor owns
   the record if the rule is `owner_only`, and every `when` condition holds on the
   record's current state.
2. If any applying rule denies, the edit is denied; the decision names the first such
   rule in document order.
3. Otherwise, if any applying rule allows, the edit is allowed, naming the first one.
4. Otherwise the document's `default` decides (rule id `default`).

Why deny-overrides rather than first match: the outcome does not depend on rule order,
so a tenant adding an allow rule to a template (or reordering it) can never lift a lock
the template denies explicitly — it has to remove that rule by name, which reviewers
see. The price is that a deny rule binds everyone who holds one of its roles, even when
another of their roles would be allowed; write deny rules for the roles they mean.

Missing facts fail closed: a rule whose condition names a state key the caller did not
supply (or that is `owner_only` while the caller gave no actor or the state no
`owner_id`) cannot be evaluated. If it is a deny rule the edit is denied (rule id
`missing-state`, the reason names the key); an allow rule that cannot be evaluated
simply allows nothing.

Policies decide for people. A change made by the approval engine after the last
approval (for instance a customer grade after closed-won, which every person is denied)
is applied by the owning service as source SYSTEM, and its audit record names the
approval request; a deny rule's `via_approval` tells the denied editor which workflow
to use instead.

Tenants adopt a template by publishing it into their `PolicySet`, or a document of
their own that `extends` one: rules with the template's ids replace them in place, new
ids are added after, `remove_rules` drops rules by id, and `default` is inherited unless
given. Every decision reports the policy id and version it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from services.audit.domain.documents import DocumentReader as _Reader
from services.audit.domain.documents import YamlDocument, describe as _describe
from services.audit.domain.errors import Conflict, NotFound, PolicyError
from services.audit.domain.roles import KNOWN_ROLES

DEFAULT_RULE_ID = "default"
MISSING_STATE_RULE_ID = "missing-state"
RESERVED_RULE_IDS = frozenset({DEFAULT_RULE_ID, MISSING_STATE_RULE_ID})
# The state key `owner_only` rules compare with the editor's id.
OWNER_KEY = "owner_id"
ANY = "*"
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "policies"

_POLICY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_DOCUMENT_KEYS = {
    "id": True,
    "version": True,
    "description": True,
    "default": False,  # required unless the document extends a template
    "rules": False,  # required unless the document extends a template
    "extends": False,
    "remove_rules": False,
}
_RULE_KEYS = {
    "id": True,
    "description": True,
    "entity": True,
    "roles": True,
    "fields": True,
    "effect": True,
    "when": False,
    "owner_only": False,
    "except_fields": False,
    "via_approval": False,
}
_EFFECTS = ("allow", "deny")
_OPERATORS = ("in", "not_in")


@dataclass(frozen=True)
class Condition:
    """`key` of the record's state is (or, with `negated`, is not) one of `values`."""

    key: str
    values: tuple[str | int | bool, ...]
    negated: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    entity: str
    roles: frozenset[str] | None  # None: any editor ("*")
    fields: frozenset[str] | None  # None: every field ("*") but `except_fields`
    except_fields: frozenset[str]
    allow: bool
    conditions: tuple[Condition, ...] = ()
    owner_only: bool = False
    via_approval: str = ""

    def covers(self, field_name: str) -> bool:
        if self.fields is None:
            return field_name not in self.except_fields
        return field_name in self.fields


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule_id: str
    reason: str
    policy_id: str
    policy_version: int
    # For a denial: the approval workflow through which the change may be requested.
    approval_workflow: str = ""


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    # Conditions as (key, values tagged with their type, negated): True must not match 1.
    conditions: tuple[tuple[str, frozenset[tuple[type, Any]], bool], ...]
    decision: Decision


_Bucket = tuple[tuple[_CompiledRule, ...], tuple[_CompiledRule, ...]]  # (deny rules, allow rules)


@dataclass(frozen=True)
class Policy:
    id: str
    version: int
    description: str
    default_allow: bool
    rules: tuple[Rule, ...]
    # (template id, template version) when this document extends a template.
    based_on: tuple[str, int] | None = None
    source: str = field(default="", compare=False)
    # (entity, field) → rules covering that field; (entity, None) → rules covering the
    # entity's fields no rule names. Built on construction so `decide` is a dict lookup.
    _index: Mapping[tuple[str, str | None], _Bucket] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _build_index(self))

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise NotFound(f"policy {self.id} v{self.version} has no rule {rule_id!r}")


def _typed(value: Any) -> tuple[type, Any]:
    return (type(value), value)


def _build_index(policy: Policy) -> dict[tuple[str, str | None], _Bucket]:
    compiled = []
    for rule in policy.rules:
        verb = "allowed" if rule.allow else "denied"
        decision = Decision(
            allowed=rule.allow,
            rule_id=rule.id,
            reason=f"{verb} by rule {rule.id} of {policy.id} v{policy.version}: {rule.description}",
            policy_id=policy.id,
            policy_version=policy.version,
            approval_workflow=rule.via_approval,
        )
        conditions = tuple((c.key, frozenset(_typed(v) for v in c.values), c.negated) for c in rule.conditions)
        compiled.append(_CompiledRule(rule, conditions, decision))

    named: dict[str, set[str]] = {}
    for rule in policy.rules:
        names = named.setdefault(rule.entity, set())
        names.update(rule.fields or ())
        names.update(rule.except_fields)

    index: dict[tuple[str, str | None], _Bucket] = {}
    for entity, names in named.items():
        entity_rules = [c for c in compiled if c.rule.entity == entity]
        for name in (*names, None):
            # None stands for any field no rule names: only "*" rules cover it.
            covering = [c for c in entity_rules if (c.rule.fields is None if name is None else c.rule.covers(name))]
            index[(entity, name)] = (
                tuple(c for c in covering if not c.rule.allow),
                tuple(c for c in covering if c.rule.allow),
            )
    return index


# --- deciding -----------------------------------------------------------------------

_MISSING = object()


def _evaluate(
    compiled: _CompiledRule, roles: Iterable[str], state: Mapping[str, Any], actor_id: str | None
) -> bool | str:
    """True/False whether the rule applies, or the name of the fact it lacks."""
    rule = compiled.rule
    if rule.roles is not None and rule.roles.isdisjoint(roles):
        return False
    if rule.owner_only:
        if actor_id is None:
            return "the editor's id (actor_id)"
        owner = state.get(OWNER_KEY, _MISSING)
        if owner is _MISSING:
            return f"state key {OWNER_KEY!r}"
        if owner != actor_id:
            return False
    for key, values, negated in compiled.conditions:
        value = state.get(key, _MISSING)
        if value is _MISSING:
            return f"state key {key!r}"
        try:
            inside = (type(value), value) in values
        except TypeError:  # an unhashable state value equals no listed value
            inside = False
        if inside == negated:
            return False
    return True


def decide(
    policy: Policy,
    principal_roles: Iterable[str],
    entity_type: str,
    record_state: Mapping[str, Any],
    field: str,
    *,
    actor_id: str | None = None,
) -> Decision:
    """May an editor holding `principal_roles` set `field` of an `entity_type` record
    whose current state is `record_state`? `actor_id` is the editor's id, needed by
    `owner_only` rules."""
    if not isinstance(principal_roles, (frozenset, set)):
        principal_roles = frozenset(principal_roles)  # read once per rule: a generator would run dry
    bucket = policy._index.get((entity_type, field)) or policy._index.get((entity_type, None))
    if bucket is not None:
        denies, allows = bucket
        for compiled in denies:
            applies = _evaluate(compiled, principal_roles, record_state, actor_id)
            if applies is True:
                return compiled.decision
            if applies:
                return Decision(
                    allowed=False,
                    rule_id=MISSING_STATE_RULE_ID,
                    reason=f"rule {compiled.rule.id} of {policy.id} v{policy.version} needs {applies} "
                    f"to decide on {entity_type}.{field}, and it was not given",
                    policy_id=policy.id,
                    policy_version=policy.version,
                )
        for compiled in allows:
            if _evaluate(compiled, principal_roles, record_state, actor_id) is True:
                return compiled.decision
    verb = "allows" if policy.default_allow else "denies"
    return Decision(
        allowed=policy.default_allow,
        rule_id=DEFAULT_RULE_ID,
        reason=f"no rule of {policy.id} v{policy.version} applies to roles "
        f"{', '.join(sorted(principal_roles)) or '(none)'} editing {entity_type}.{field} of this record; "
        f"the default {verb} it",
        policy_id=policy.id,
        policy_version=policy.version,
    )


# --- loading ------------------------------------------------------------------------


def _read_roles(reader: _Reader, value: Any, path: str) -> frozenset[str] | None:
    if value == ANY:
        return None
    if not isinstance(value, list) or not value:
        raise reader.doc.fail(path, f'must be "*" or a non-empty list of roles, got {_describe(value)}')
    roles = reader.names(value, path, re.compile(r"^.+$"), "role")
    for index, role in enumerate(value):
        if role not in KNOWN_ROLES:
            known = ", ".join(sorted(KNOWN_ROLES))
            raise reader.doc.fail(f"{path}[{index}]", f"unknown role {role!r}; roles are {known}")
    return roles


def _read_conditions(reader: _Reader, value: Any, path: str) -> tuple[Condition, ...]:
    if not isinstance(value, dict) or not value:
        raise reader.doc.fail(path, f"must be a non-empty mapping of state key to condition, got {_describe(value)}")
    conditions = []
    for key, test in value.items():
        key_path = f"{path}.{key}"
        if not _NAME.match(key):
            raise reader.doc.fail(key_path, f"state key {key!r} must be lowercase letters, digits and '_'")
        if not isinstance(test, dict) or len(test) != 1:
            raise reader.doc.fail(key_path, f"must be a mapping with exactly one of: {', '.join(_OPERATORS)}")
        ((operator, values),) = test.items()
        if operator not in _OPERATORS:
            raise reader.doc.fail(f"{key_path}.{operator}", f"unknown operator; use one of {', '.join(_OPERATORS)}")
        values_path = f"{key_path}.{operator}"
        if not isinstance(values, list) or not values:
            raise reader.doc.fail(values_path, f"must be a non-empty list of values, got {_describe(values)}")
        for index, item in enumerate(values):
            if not isinstance(item, (str, int, bool)):
                raise reader.doc.fail(
                    f"{values_path}[{index}]", f"must be text, an integer or a boolean, got {_describe(item)}"
                )
        conditions.append(Condition(key, tuple(values), negated=operator == "not_in"))
    return tuple(conditions)


def _read_rule(reader: _Reader, value: Any, path: str) -> Rule:
    data = reader.mapping(value, path, _RULE_KEYS)
    rule_id = reader.text(data["id"], f"{path}.id", _RULE_ID, "a rule id (lowercase letters, digits, '.', '_', '-')")
    if rule_id in RESERVED_RULE_IDS:
        raise reader.doc.fail(f"{path}.id", f"{rule_id!r} is reserved for decisions no rule makes")
    effect = reader.choice(data["effect"], f"{path}.effect", _EFFECTS)
    entity = reader.text(data["entity"], f"{path}.entity", _NAME, "an entity type (lowercase letters, digits, '_')")
    if data["fields"] == ANY:
        fields = None
    else:
        fields = reader.names(data["fields"], f"{path}.fields", _NAME, "field name")
    except_fields: frozenset[str] = frozenset()
    if "except_fields" in data:
        if fields is not None:
            raise reader.doc.fail(f"{path}.except_fields", 'only makes sense with fields: "*"; list the fields instead')
        except_fields = reader.names(data["except_fields"], f"{path}.except_fields", _NAME, "field name")
    via_approval = ""
    if "via_approval" in data:
        if effect != "deny":
            raise reader.doc.fail(f"{path}.via_approval", "only a deny rule can point to an approval workflow")
        via_approval = reader.text(data["via_approval"], f"{path}.via_approval", _NAME, "a workflow name")
    return Rule(
        id=rule_id,
        description=reader.text(data["description"], f"{path}.description"),
        entity=entity,
        roles=_read_roles(reader, data["roles"], f"{path}.roles"),
        fields=fields,
        except_fields=except_fields,
        allow=effect == "allow",
        conditions=_read_conditions(reader, data["when"], f"{path}.when") if "when" in data else (),
        owner_only=reader.boolean(data["owner_only"], f"{path}.owner_only") if "owner_only" in data else False,
        via_approval=via_approval,
    )


def _read_rules(reader: _Reader, value: Any, path: str) -> list[Rule]:
    if not isinstance(value, list):
        raise reader.doc.fail(path, f"must be a list of rules, got {_describe(value)}")
    rules: list[Rule] = []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(value):
        rule = _read_rule(reader, item, f"{path}[{index}]")
        if rule.id in first_seen:
            first = f"{path}[{first_seen[rule.id]}]"
            raise reader.doc.fail(f"{path}[{index}].id", f"duplicate rule id {rule.id!r} (first at {first})")
        first_seen[rule.id] = index
        rules.append(rule)
    return rules


def load_policy(
    text: str, source_name: str, templates: Mapping[tuple[str, int], Policy] | None = None
) -> Policy:
    """Parse and validate one policy document strictly; any problem raises PolicyError
    naming `source_name`, the key path and what is wrong. `templates` holds the
    documents an `extends` may name, by (id, version)."""
    document = YamlDocument(text, source_name, PolicyError)
    reader = _Reader(document)
    data = reader.mapping(document.value, "", _DOCUMENT_KEYS)
    policy_id = reader.text(data["id"], "id", _POLICY_ID, "a policy id (letters, digits, '.', '_', '-')")
    version = reader.integer(data["version"], "version", 1)
    description = reader.text(data["description"], "description")
    rules = _read_rules(reader, data["rules"], "rules") if "rules" in data else []

    based_on = None
    default_allow: bool | None = None
    if "default" in data:
        default_allow = reader.choice(data["default"], "default", _EFFECTS) == "allow"
    if "extends" in data:
        template = _read_extends(reader, data["extends"], templates or {})
        based_on = (template.id, template.version)
        rules = _merge(reader, template, rules, data.get("remove_rules"))
        if default_allow is None:
            default_allow = template.default_allow
    else:
        if "remove_rules" in data:
            raise document.fail("remove_rules", "only a document that extends a template can remove rules")
        for key in ("default", "rules"):
            if key not in data:
                raise document.fail(key, "is required (unless the document extends a template)")
    assert default_allow is not None
    policy = Policy(policy_id, version, description, default_allow, tuple(rules), based_on, source_name)
    return policy


def _read_extends(reader: _Reader, value: Any, templates: Mapping[tuple[str, int], Policy]) -> Policy:
    data = reader.mapping(value, "extends", {"id": True, "version": True})
    key = (
        reader.text(data["id"], "extends.id", _POLICY_ID, "a policy id"),
        reader.integer(data["version"], "extends.version", 1),
    )
    if key not in templates:
        known = ", ".join(f"{i} v{v}" for i, v in sorted(templates)) or "none"
        raise reader.doc.fail("extends", f"template {key[0]} v{key[1]} is not known; known templates: {known}")
    return templates[key]


def _merge(reader: _Reader, template: Policy, own: list[Rule], remove: Any) -> list[Rule]:
    removed: frozenset[str] = frozenset()
    if remove is not None:
        removed = reader.names(remove, "remove_rules", _RULE_ID, "rule id")
        for index, rule_id in enumerate(remove):
            if rule_id not in template.rule_ids:
                raise reader.doc.fail(
                    f"remove_rules[{index}]", f"template {template.id} v{template.version} has no rule {rule_id!r}"
                )
    replacing = {rule.id: rule for rule in own}
    for index, rule in enumerate(own):
        if rule.id in removed:
            raise reader.doc.fail(f"rules[{index}].id", f"rule {rule.id!r} is both removed and redefined; do one")
    merged = [replacing.pop(rule.id, rule) for rule in template.rules if rule.id not in removed]
    return merged + [rule for rule in own if rule.id in replacing]


def load_policy_file(path: Path | str, templates: Mapping[tuple[str, int], Policy] | None = None) -> Policy:
    """Read a policy file; its name must be `<id>.yaml`, so a file is found by its id."""
    path = Path(path)
    policy = load_policy(path.read_text(encoding="utf-8"), str(path), templates)
    if path.stem != policy.id:
        raise PolicyError(str(path), "id", f"the file of policy {policy.id!r} must be named {policy.id}.yaml")
    return policy


def load_templates(directory: Path | str = TEMPLATES_DIR) -> dict[tuple[str, int], Policy]:
    """Every template shipped in `directory`, by (id, version)."""
    templates: dict[tuple[str, int], Policy] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        policy = load_policy_file(path, templates)
        templates[(policy.id, policy.version)] = policy
    return templates


# --- a tenant's policies over time --------------------------------------------------


@dataclass(frozen=True)
class PolicySet:
    """The policy documents a tenant has published, and the one in force. Publishing
    never changes the active policy; activating an older version rolls back."""

    tenant_id: str
    published: tuple[Policy, ...] = ()
    # Held directly (not looked up by id) so a decision costs no search.
    active_policy: Policy | None = None

    @property
    def active(self) -> tuple[str, int] | None:
        return None if self.active_policy is None else (self.active_policy.id, self.active_policy.version)

    def get(self, policy_id: str, version: int) -> Policy:
        for policy in self.published:
            if (policy.id, policy.version) == (policy_id, version):
                return policy
        raise NotFound(f"tenant {self.tenant_id} has no policy {policy_id} v{version}")

    def publish(self, policy: Policy) -> "PolicySet":
        """Add a version. Publishing the same document again changes nothing; other
        content under a published (id, version), or a version below the latest, is refused."""
        for existing in self.published:
            if (existing.id, existing.version) == (policy.id, policy.version):
                if existing == policy:
                    return self
                raise Conflict(
                    f"{policy.id} v{policy.version} is already published with other content; "
                    "publish it as a new version"
                )
        latest = max((p.version for p in self.published if p.id == policy.id), default=0)
        if policy.version < latest:
            raise Conflict(f"{policy.id} v{policy.version} is older than the published v{latest}")
        return replace(self, published=(*self.published, policy))

    def activate(self, policy_id: str, version: int) -> "PolicySet":
        return replace(self, active_policy=self.get(policy_id, version))

    def decide(
        self,
        principal_roles: Iterable[str],
        entity_type: str,
        record_state: Mapping[str, Any],
        field: str,
        *,
        actor_id: str | None = None,
    ) -> Decision:
        if self.active_policy is None:
            raise NotFound(f"tenant {self.tenant_id} has no active policy")
        return decide(self.active_policy, principal_roles, entity_type, record_state, field, actor_id=actor_id)


def adopt_template(tenant_id: str, template: Policy) -> PolicySet:
    """A tenant's first policy set: the template as published, and active."""
    return PolicySet(tenant_id).publish(template).activate(template.id, template.version)

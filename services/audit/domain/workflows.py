"""Approval workflows as data: one YAML document per workflow version, shipped in
`services/audit/workflows/<name>.v<version>.yaml`, validated strictly on load.

    name: customer_grade_change
    version: 1
    description: ...
    changes: {entity_type: account, field: grade}
    submitter_roles: [rep, manager]
    notify_on_approval: [marketing]        # optional
    distinct_approvers: true               # optional, default true
    stages:                                # run in order
      - step:                              # one approver decides
          name: manager_approval
          approver_roles: [manager]
          deadline: 24h                    # <n>m, <n>h or <n>d
          escalation_role: director
          reason_required: false           # optional: approvals need a reason too
      - parallel:                          # all of these, in any order
          - {name: legal_review, approver_roles: [director], deadline: 2d, escalation_role: admin}
          - {name: finance_review, approver_roles: [finance], deadline: 2d, escalation_role: director}

A published version never changes: a request keeps the definition it was submitted
under (replaying its events needs that version), so a change is a new file with the
next version. Every problem raises WorkflowError naming the file, the key path and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from services.audit.domain.approvals import ParallelGroup, Stage, Step, WorkflowDefinition
from services.audit.domain.documents import DocumentReader, YamlDocument, describe
from services.audit.domain.errors import InvalidCommand, WorkflowError
from services.audit.domain.roles import KNOWN_ROLES

WORKFLOWS_DIR = Path(__file__).resolve().parents[1] / "workflows"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DURATION = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_]{0,63})\.v(?P<version>[1-9][0-9]*)\.yaml$")

_DOCUMENT_KEYS = {
    "name": True,
    "version": True,
    "description": True,
    "changes": True,
    "submitter_roles": True,
    "stages": True,
    "notify_on_approval": False,
    "distinct_approvers": False,
}
_STEP_KEYS = {
    "name": True,
    "approver_roles": True,
    "deadline": True,
    "escalation_role": True,
    "reason_required": False,
}


def _roles(reader: DocumentReader, value: Any, path: str) -> frozenset[str]:
    roles = reader.names(value, path, _NAME, "role")
    for index, role in enumerate(value):
        if role not in KNOWN_ROLES:
            raise reader.doc.fail(f"{path}[{index}]", f"unknown role {role!r}; roles are {', '.join(sorted(KNOWN_ROLES))}")
    return roles


def _duration(reader: DocumentReader, value: Any, path: str) -> timedelta:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise reader.doc.fail(path, f"must be a duration like 30m, 24h or 2d, got {describe(value)}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _step(reader: DocumentReader, value: Any, path: str) -> Step:
    data = reader.mapping(value, path, _STEP_KEYS)
    escalation = reader.text(data["escalation_role"], f"{path}.escalation_role", _NAME, "a role")
    if escalation not in KNOWN_ROLES:
        raise reader.doc.fail(f"{path}.escalation_role", f"unknown role {escalation!r}; roles are {', '.join(sorted(KNOWN_ROLES))}")
    return Step(
        name=reader.text(data["name"], f"{path}.name", _NAME, "a step name (lowercase letters, digits, '_')"),
        approver_roles=_roles(reader, data["approver_roles"], f"{path}.approver_roles"),
        deadline=_duration(reader, data["deadline"], f"{path}.deadline"),
        escalation_role=escalation,
        reason_required=reader.boolean(data["reason_required"], f"{path}.reason_required")
        if "reason_required" in data
        else False,
    )


def _stage(reader: DocumentReader, value: Any, path: str) -> Stage:
    data = reader.mapping(value, path, {"step": False, "parallel": False})
    if len(data) != 1:
        raise reader.doc.fail(path, "must hold exactly one of: step (one approver), parallel (a list of steps)")
    if "step" in data:
        return _step(reader, data["step"], f"{path}.step")
    steps = data["parallel"]
    if not isinstance(steps, list) or len(steps) < 2:
        raise reader.doc.fail(f"{path}.parallel", f"must list at least two steps (use step for one), got {describe(steps)}")
    return ParallelGroup(tuple(_step(reader, item, f"{path}.parallel[{i}]") for i, item in enumerate(steps)))


def _document_path(domain_path: str) -> str:
    """The definition's own validation names places as stages[i].steps[j].x (parallel)
    or stages[i].x (a single step); the document spells them differently."""
    path = re.sub(r"^stages\[(\d+)\]\.steps\[(\d+)\]", r"stages[\1].parallel[\2]", domain_path)
    if path == domain_path:
        path = re.sub(r"^stages\[(\d+)\]\.", r"stages[\1].step.", domain_path)
    return path


def load_workflow(text: str, source_name: str) -> WorkflowDefinition:
    document = YamlDocument(text, source_name, WorkflowError)
    reader = DocumentReader(document)
    data = reader.mapping(document.value, "", _DOCUMENT_KEYS)
    changes = reader.mapping(data["changes"], "changes", {"entity_type": True, "field": True})
    stages = data["stages"]
    if not isinstance(stages, list) or not stages:
        raise document.fail("stages", f"must be a non-empty list of stages, got {describe(stages)}")
    notify = data.get("notify_on_approval", [])
    try:
        return WorkflowDefinition(
            name=reader.text(data["name"], "name", _NAME, "a workflow name (lowercase letters, digits, '_')"),
            version=reader.integer(data["version"], "version", 1),
            description=reader.text(data["description"], "description"),
            entity_type=reader.text(changes["entity_type"], "changes.entity_type", _NAME, "an entity type"),
            field=reader.text(changes["field"], "changes.field", _NAME, "a field name"),
            submitter_roles=_roles(reader, data["submitter_roles"], "submitter_roles"),
            stages=tuple(_stage(reader, stage, f"stages[{i}]") for i, stage in enumerate(stages)),
            notify_on_approval=tuple(sorted(_roles(reader, notify, "notify_on_approval"))) if notify else (),
            distinct_approvers=reader.boolean(data["distinct_approvers"], "distinct_approvers")
            if "distinct_approvers" in data
            else True,
        )
    except InvalidCommand as exc:
        raise document.fail(_document_path(exc.field), exc.problem) from None


@dataclass(frozen=True)
class WorkflowCatalog:
    """Every shipped workflow version, by (name, version)."""

    definitions: dict[tuple[str, int], WorkflowDefinition]

    def get(self, name: str, version: int) -> WorkflowDefinition:
        found = self.definitions.get((name, version))
        if found is None:
            raise InvalidCommand("workflow", f"{name} v{version} is not a known workflow version")
        return found

    def latest(self, name: str) -> WorkflowDefinition:
        versions = [v for (n, v) in self.definitions if n == name]
        if not versions:
            raise InvalidCommand("workflow", f"unknown workflow {name!r}; workflows are {', '.join(self.names) or 'none'}")
        return self.definitions[(name, max(versions))]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({name for name, _ in self.definitions}))


def load_workflows(directory: Path | str = WORKFLOWS_DIR) -> WorkflowCatalog:
    """Every `<name>.v<version>.yaml` in `directory`; a file whose name does not match
    its content, or any other file there, is refused."""
    definitions: dict[tuple[str, int], WorkflowDefinition] = {}
    for path in sorted(Path(directory).iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        match = _FILE.match(path.name)
        if match is None:
            raise WorkflowError(str(path), "", "a workflow file is named <name>.v<version>.yaml")
        definition = load_workflow(path.read_text(encoding="utf-8"), str(path))
        if (definition.name, definition.version) != (match["name"], int(match["version"])):
            raise WorkflowError(
                str(path), "name", f"holds {definition.name} v{definition.version}; the file name must match it"
            )
        definitions[(definition.name, definition.version)] = definition
    return WorkflowCatalog(definitions)

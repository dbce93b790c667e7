"""Approval workflows as data: the shipped files load, and a bad document is refused
naming the file, the key path, the line and the reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from services.audit.domain.approvals import ParallelGroup
from services.audit.domain.errors import InvalidCommand, WorkflowError
from services.audit.domain.workflows import load_workflow, load_workflows

GOOD = """\
name: contract_review
version: 2
description: legal and finance review a contract together, then a director signs
changes: {entity_type: opportunity, field: contract_terms}
submitter_roles: [rep, manager]
notify_on_approval: [delivery]
stages:
  - parallel:
      - {name: legal_review, approver_roles: [director], deadline: 2d, escalation_role: admin}
      - {name: finance_review, approver_roles: [finance], deadline: 36h, escalation_role: director}
  - step:
      name: signature
      approver_roles: [director]
      deadline: 90m
      escalation_role: admin
      reason_required: true
"""


def test_a_workflow_document_becomes_its_definition():
    workflow = load_workflow(GOOD, "contract_review.v2.yaml")
    assert (workflow.name, workflow.version, workflow.entity_type, workflow.field) == (
        "contract_review", 2, "opportunity", "contract_terms",
    )
    first, second = workflow.stages
    assert isinstance(first, ParallelGroup) and [s.deadline for s in first.steps] == [timedelta(days=2), timedelta(hours=36)]
    assert second.deadline == timedelta(minutes=90) and second.reason_required
    assert workflow.notify_on_approval == ("delivery",) and workflow.distinct_approvers


@pytest.mark.parametrize(
    "old, new, key, reason",
    [
        ("version: 2", "version: 0", "version", "at least 1"),
        ("submitter_roles: [rep, manager]", "submitter_roles: [rep, boss]", "submitter_roles[1]", "unknown role 'boss'"),
        ("deadline: 2d", "deadline: soon", "stages[0].parallel[0].deadline", "duration like 30m"),
        ("escalation_role: admin\n      reason", "escalation_role: ceo\n      reason", "stages[1].step.escalation_role", "unknown role"),
        ("name: signature", "name: legal_review", "stages[1].step.name", "used twice"),
        ("  - step:\n", "  - stepp:\n", "stages[1].stepp", "unknown key"),
        ("changes: {entity_type: opportunity, field: contract_terms}", "changes: {entity_type: opportunity}", "changes.field", "is required"),
        ("reason_required: true", "reason_required: yes please", "stages[1].step.reason_required", "true or false"),
    ],
)
def test_a_bad_document_names_the_file_key_and_reason(old, new, key, reason):
    assert old in GOOD
    with pytest.raises(WorkflowError) as caught:
        load_workflow(GOOD.replace(old, new, 1), "contract_review.v2.yaml")
    error = caught.value
    assert (error.source, error.key_path) == ("contract_review.v2.yaml", key) and reason in error.problem
    assert error.line is not None and str(error).startswith(f"contract_review.v2.yaml:{error.line}: {key}: ")


def test_a_parallel_stage_needs_two_steps_and_yaml_errors_have_a_line():
    single = GOOD.replace("      - {name: finance_review, approver_roles: [finance], deadline: 36h, escalation_role: director}\n", "")
    with pytest.raises(WorkflowError, match=r"stages\[0\]\.parallel: must list at least two steps"):
        load_workflow(single, "w.yaml")
    with pytest.raises(WorkflowError) as caught:
        load_workflow("name: [unclosed", "w.yaml")
    assert "not valid YAML" in str(caught.value) and caught.value.line == 1


def test_the_file_name_must_match_the_name_and_version(tmp_path: Path):
    (tmp_path / "contract_review.v1.yaml").write_text(GOOD)
    with pytest.raises(WorkflowError, match="holds contract_review v2; the file name must match"):
        load_workflows(tmp_path)
    (tmp_path / "contract_review.v1.yaml").rename(tmp_path / "notes.txt")
    with pytest.raises(WorkflowError, match=r"named <name>\.v<version>\.yaml"):
        load_workflows(tmp_path)


def test_the_catalogue_keeps_every_version_and_submits_under_the_newest(tmp_path: Path):
    (tmp_path / "contract_review.v2.yaml").write_text(GOOD)
    (tmp_path / "contract_review.v1.yaml").write_text(GOOD.replace("version: 2", "version: 1"))
    catalog = load_workflows(tmp_path)
    assert catalog.latest("contract_review").version == 2 and catalog.get("contract_review", 1).version == 1
    with pytest.raises(InvalidCommand, match="unknown workflow 'nope'; workflows are contract_review"):
        catalog.latest("nope")


def test_the_shipped_workflows_load():
    assert load_workflows().names == ("customer_grade_change", "stage_gate_override")

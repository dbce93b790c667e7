"""Every template shipped in services/actions/templates loads, and holds to the rules
the README promises template authors."""

import re

import pytest

from kernel.auth import ROLES
from services.actions.domain.pipeline import DEFAULT_STAGES
from services.actions.domain.templates import (
    SHIPPED_DIRECTORY,
    ActivityEvidence,
    ApprovalEvidence,
    AttachmentEvidence,
    CountEvidence,
    FormEvidence,
    dump_template,
    load_catalogue,
    load_template,
)

CATALOGUE = load_catalogue()
TEMPLATES = list(CATALOGUE)
FILES = sorted(SHIPPED_DIRECTORY.glob("*.yaml"))
CJK = re.compile(r"[\u4e00-\u9fff]")

INDUSTRIES = {
    "medical_devices",
    "saas",
    "edtech",
    "smart_hardware",
    "retail_pharmacy",
    "ecommerce_services",
    "industrial_manufacturing",
    "financial_services",
}


def test_every_approval_names_a_role_users_can_hold():
    # Otherwise nobody could grant it and the gate would never open.
    assert len(load_catalogue(known_roles=ROLES)) == len(TEMPLATES)
    actions = [a for t in TEMPLATES for s in t.stages for a in s.actions]
    roles = {a.evidence.approver_role for a in actions if a.evidence.kind == "approval"}
    assert roles and roles <= ROLES


def test_at_least_the_eight_industries_ship():
    assert len(FILES) >= 8
    assert INDUSTRIES <= {t.id for t in TEMPLATES}
    assert len(TEMPLATES) == len(FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_loads_on_its_own_and_round_trips(path):
    template = load_template(path.read_text(encoding="utf-8"), str(path))
    assert template.owner is None and template.based_on is None
    assert load_template(dump_template(template), "dumped") == template


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_names_are_bilingual(template):
    texts = [template.name] + [s.name for s in template.stages] + [a.name for s in template.stages for a in s.actions]
    if template.description:
        texts.append(template.description)
    for text in texts:
        assert CJK.search(text.zh), f"{text.zh!r} has no Chinese"
        assert not CJK.search(text.en) and text.en[0].isupper(), f"{text.en!r} is not an English name"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_stage_vocabulary_and_shape(template):
    assert template.first_stage.id == "lead"
    assert template.stage_ids[-2:] == ("closed_won", "closed_lost")
    for stage in template.stages:
        if stage.terminal:
            continue
        # A deal can be lost from every open stage.
        assert "closed_lost" in stage.next, stage.id
        # Every open stage asks for at least one machine-checkable proof.
        assert stage.mandatory_actions, stage.id
        # Mandatory actions fall due while the stage usually lasts.
        for action in stage.mandatory_actions:
            assert action.due_offset_hours <= stage.benchmark_dwell_hours, (stage.id, action.id)
    shared = [s for s in template.stage_ids if s in DEFAULT_STAGES]
    assert {"lead", "qualification", "needs_diagnosis", "negotiation"} <= set(shared)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_needs_diagnosis_follows_the_article(template):
    """Every shipped industry diagnoses needs with a >90 % form and ≥3 pain-point questions."""
    stage = template.stage("needs_diagnosis")
    forms = [a for a in stage.mandatory_actions if isinstance(a.evidence, FormEvidence)]
    assert any(a.evidence.threshold == 0.9 and len(a.evidence.required_fields) >= 10 for a in forms)
    counts = [a.evidence for a in stage.mandatory_actions if isinstance(a.evidence, CountEvidence)]
    assert any(c.item == "pain_point_question" and c.min_count >= 3 for c in counts)


def test_medical_devices_needs_diagnosis_is_the_articles_example():
    template = CATALOGUE.latest("medical_devices", tenant_id="t")
    stage = template.stage("needs_diagnosis")
    mandatory = {a.id: a.evidence for a in stage.mandatory_actions}
    assert mandatory["needs_diagnosis_form"] == FormEvidence(
        form="needs_diagnosis_form",
        required_fields=mandatory["needs_diagnosis_form"].required_fields,
        threshold=0.9,
    )
    assert len(mandatory["needs_diagnosis_form"].required_fields) == 12
    assert mandatory["pain_point_questions"].min_count == 3
    sheet = mandatory["competitor_comparison"]
    assert isinstance(sheet, AttachmentEvidence) and sheet.document_types == ("competitor_comparison",)
    assert stage.action("competitor_comparison").attachment_template.file.endswith(".xlsx")
    assert {"clinical_trial", "tender"} <= set(template.stage_ids)


def test_every_evidence_kind_is_used_by_the_shipped_templates():
    kinds = {type(a.evidence) for t in TEMPLATES for s in t.stages for a in s.actions}
    assert kinds == {FormEvidence, CountEvidence, AttachmentEvidence, ActivityEvidence, ApprovalEvidence}


def test_industry_specific_stages():
    assert "pilot" in CATALOGUE.latest("saas", tenant_id="t").stage_ids
    assert "tender" in CATALOGUE.latest("industrial_manufacturing", tenant_id="t").stage_ids
    assert "compliance_review" in CATALOGUE.latest("retail_pharmacy", tenant_id="t").stage_ids
    assert "credit_approval" in CATALOGUE.latest("financial_services", tenant_id="t").stage_ids


def test_readme_lists_every_shipped_file():
    readme = (SHIPPED_DIRECTORY / "README.md").read_text(encoding="utf-8")
    for path in FILES:
        assert f"`{path.name}`" in readme, path.name

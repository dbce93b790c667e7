from pathlib import Path

import pytest

from services.actions.domain.errors import AlreadyExists, InvalidCommand, NotFound, PreconditionFailed
from services.actions.domain.evidence import Verdict
from services.actions.domain.templates import (
    SHIPPED_DIRECTORY,
    ActionSpec,
    AddAction,
    AddStage,
    ApprovalEvidence,
    FormEvidence,
    LocalizedText,
    RemoveAction,
    SetBenchmarkDwell,
    SetEvidence,
    SetMandatory,
    SetNext,
    Stage,
    TemplateCatalogue,
    TemplateError,
    TemplateRef,
    copy_for_tenant,
    dump_template,
    load_catalogue,
    load_template,
    missing_for_advance,
    revise,
)

SHIPPED = load_catalogue()
MEDICAL = SHIPPED.latest("medical_devices", tenant_id="acme")


def acme_copy(*changes):
    return copy_for_tenant(MEDICAL, "acme", *changes)


# ---- tenant copies ---------------------------------------------------------------------------


def test_copy_for_tenant_is_a_new_template_owned_by_the_tenant():
    copy = acme_copy()
    assert copy.ref == TemplateRef("acme.medical_devices", 1)
    assert copy.owner == "acme"
    assert copy.based_on == TemplateRef("medical_devices", 1)
    assert copy.stages == MEDICAL.stages
    assert MEDICAL.owner is None  # the original is untouched


def test_copy_applies_changes_and_revalidates():
    stricter = FormEvidence(
        form="needs_diagnosis_form",
        required_fields=MEDICAL.action("needs_diagnosis_form")[1].evidence.required_fields,
        threshold=0.95,
    )
    copy = acme_copy(
        SetBenchmarkDwell("needs_diagnosis", 120),
        SetMandatory("product_demonstration", True),
        SetEvidence("needs_diagnosis_form", stricter),
        RemoveAction("decision_maker_call"),
        AddAction(
            "negotiation",
            ActionSpec(
                id="ceo_sign_off",
                name=LocalizedText("总经理签字", "CEO sign-off"),
                mandatory=True,
                evidence=ApprovalEvidence("ceo"),
                due_offset_hours=48,
            ),
        ),
    )
    needs = copy.stage("needs_diagnosis")
    assert needs.benchmark_dwell_hours == 120
    assert needs.action("product_demonstration").mandatory
    assert needs.action("needs_diagnosis_form").evidence.threshold == 0.95
    assert copy.action("decision_maker_call") is None
    assert [a.id for a in copy.stage("negotiation").mandatory_actions][-1] == "ceo_sign_off"
    # The tenant's rule now gates its opportunities: the demo is mandatory.
    verified = {a.id: Verdict(True) for a in MEDICAL.stage("needs_diagnosis").mandatory_actions}
    assert missing_for_advance(MEDICAL, "needs_diagnosis", "tender", verified) == []
    assert [m.action_id for m in missing_for_advance(copy, "needs_diagnosis", "tender", verified)] == [
        "product_demonstration"
    ]


def test_copy_can_add_a_stage():
    site_visit = Stage(
        id="site_assessment",
        name=LocalizedText("场地评估", "Site assessment"),
        benchmark_dwell_hours=72,
        next=("tender", "closed_lost"),
    )
    copy = acme_copy(
        AddStage(site_visit, after="clinical_trial"), SetNext("clinical_trial", ("site_assessment", "closed_lost"))
    )
    assert copy.stage_ids.index("site_assessment") == copy.stage_ids.index("clinical_trial") + 1
    assert copy.stage("clinical_trial").next == ("site_assessment", "closed_lost")


def test_copy_that_breaks_the_graph_is_refused_with_the_key_path():
    with pytest.raises(TemplateError) as err:
        acme_copy(SetNext("negotiation", ("needs_diagnosis", "closed_won")))
    assert err.value.source == "customisation of medical_devices@v1"
    assert err.value.path == "stages[5].next[0]"
    cycle = "cycle: needs_diagnosis → clinical_trial → tender → negotiation → needs_diagnosis"
    assert cycle in err.value.problem


@pytest.mark.parametrize(
    "change, field",
    [
        (SetMandatory("no_such_action", True), "changes[0].action_id"),
        (SetBenchmarkDwell("no_such_stage", 10), "changes[0].stage_id"),
        (SetBenchmarkDwell("lead", -1), "changes[0].benchmark_dwell_hours"),
    ],
)
def test_bad_changes_name_the_change(change, field):
    with pytest.raises(InvalidCommand) as err:
        acme_copy(change)
    assert err.value.field == field


def test_tenant_template_ids_live_in_the_tenant_namespace():
    with pytest.raises(TemplateError) as err:
        copy_for_tenant(MEDICAL, "acme", template_id="medical_devices_plus")
    assert err.value.path == "id"
    assert "must have an id starting with 'acme.'" in err.value.problem


def test_tenant_copy_serialises_in_the_file_format():
    copy = acme_copy(SetBenchmarkDwell("lead", 36))
    text = dump_template(copy)
    assert "owner: acme" in text and "based_on:" in text
    assert load_template(text, "acme.yaml") == copy


# ---- versions and pinning ----------------------------------------------------------------------


def test_revise_makes_the_next_version_and_the_catalogue_keeps_both():
    v1 = acme_copy()
    v2 = revise(v1, SetBenchmarkDwell("lead", 24))
    assert v2.ref == TemplateRef("acme.medical_devices", 2)
    assert v2.based_on == v1.based_on and v2.owner == "acme"
    catalogue = SHIPPED.with_template(v1).with_template(v2)
    assert catalogue.versions("acme.medical_devices", tenant_id="acme") == (1, 2)
    assert catalogue.latest("acme.medical_devices", tenant_id="acme") == v2


def test_an_opportunity_keeps_the_version_it_started_with():
    v1 = acme_copy()
    catalogue = SHIPPED.with_template(v1)
    pinned = catalogue.latest("acme.medical_devices", tenant_id="acme").ref  # stored on the opportunity
    v2 = revise(v1, SetMandatory("product_demonstration", True))
    catalogue = catalogue.with_template(v2)
    resolved = catalogue.resolve(pinned, tenant_id="acme")
    assert resolved == v1
    assert not resolved.stage("needs_diagnosis").action("product_demonstration").mandatory


def test_resolution_never_falls_back_to_another_version():
    catalogue = SHIPPED.with_template(acme_copy())
    with pytest.raises(NotFound) as err:
        catalogue.resolve(TemplateRef("acme.medical_devices", 2), tenant_id="acme")
    assert str(err.value) == "template acme.medical_devices@v2 not found; known versions: v1"


def test_tenants_do_not_see_each_others_templates():
    catalogue = SHIPPED.with_template(acme_copy())
    ref = TemplateRef("acme.medical_devices", 1)
    with pytest.raises(NotFound) as err:
        catalogue.resolve(ref, tenant_id="globex")
    assert "known versions" not in str(err.value)
    assert catalogue.versions("acme.medical_devices", tenant_id="globex") == ()
    assert "acme.medical_devices" not in {t.id for t in catalogue.available(tenant_id="globex")}
    assert "acme.medical_devices" in {t.id for t in catalogue.available(tenant_id="acme")}
    # Shipped templates are visible to everyone.
    assert catalogue.resolve(TemplateRef("saas", 1), tenant_id="globex").id == "saas"


def test_publishing_rules():
    v1 = acme_copy()
    catalogue = SHIPPED.with_template(v1)
    assert catalogue.with_template(v1) is catalogue  # the same version again: nothing changes
    with pytest.raises(AlreadyExists):
        catalogue.with_template(acme_copy(SetBenchmarkDwell("lead", 1)))  # v1 with other content
    with pytest.raises(PreconditionFailed) as err:
        catalogue.with_template(revise(revise(v1)))  # v3 before v2
    assert str(err.value) == "the next version of acme.medical_devices is 2, not 3"


def test_shipped_templates_are_not_revised_in_code():
    with pytest.raises(PreconditionFailed):
        revise(MEDICAL)


def test_fingerprint_changes_with_content_only():
    assert acme_copy().fingerprint == acme_copy().fingerprint
    assert acme_copy().fingerprint != acme_copy(SetBenchmarkDwell("lead", 71)).fingerprint


# ---- loading a directory ---------------------------------------------------------------------------


def shipped_text(name="medical_devices"):
    return (SHIPPED_DIRECTORY / f"{name}.yaml").read_text(encoding="utf-8")


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_archived_versions_load_beside_the_current_one(tmp_path):
    write(tmp_path, "medical_devices.v1.yaml", shipped_text())
    write(tmp_path, "medical_devices.yaml", shipped_text().replace("version: 1\n", "version: 2\n", 1))
    write(tmp_path, "README.md", "not a template")
    catalogue = load_catalogue(tmp_path)
    assert catalogue.versions("medical_devices", tenant_id="t") == (1, 2)
    assert catalogue.resolve(TemplateRef("medical_devices", 1), tenant_id="t").version == 1


def load_errors(directory):
    with pytest.raises(TemplateError) as err:
        load_catalogue(directory)
    return err.value


def test_duplicate_template_ids_are_refused(tmp_path):
    write(tmp_path, "medical_devices.yaml", shipped_text())
    write(tmp_path, "medical_devices.v1.yaml", shipped_text())
    err = load_errors(tmp_path)
    problem = [p for p in err.problems if "already defined" in p.problem][0]
    assert problem.path == "id" and problem.line == 5
    assert problem.source.endswith("medical_devices.yaml")
    assert problem.problem.startswith("template medical_devices@v1 is already defined in ")


def test_file_name_must_match_the_id_and_version(tmp_path):
    write(tmp_path, "hospital.yaml", shipped_text())
    write(tmp_path, "saas.v3.yaml", shipped_text("saas"))
    write(tmp_path, "Bad Name.yaml", shipped_text("edtech"))
    problems = {(Path(p.source).name, p.path): p for p in load_errors(tmp_path).problems}
    assert problems[("hospital.yaml", "id")].problem == "template id 'medical_devices' does not match the file name"
    assert problems[("hospital.yaml", "id")].line == 5
    assert problems[("saas.v3.yaml", "version")].problem == "version 1 does not match the file name (v3)"
    assert problems[("Bad Name.yaml", "")].problem.startswith("file name must be <template id>.yaml")


def test_current_file_must_hold_the_highest_version(tmp_path):
    write(tmp_path, "saas.yaml", shipped_text("saas"))
    write(tmp_path, "saas.v2.yaml", shipped_text("saas").replace("version: 1\n", "version: 2\n", 1))
    err = load_errors(tmp_path)
    assert err.path == "version"
    assert err.problem == "the current file must hold the highest version; saas.v2.yaml is version 2"


def test_shipped_templates_have_no_owner(tmp_path):
    text = dump_template(acme_copy())
    write(tmp_path, "acme.yaml", text)
    problems = {p.path: p for p in load_errors(tmp_path).problems}
    assert problems["owner"].problem == "shipped templates have no owner; tenants own copies"
    assert problems["owner"].line == next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("owner:"))
    assert problems["id"].problem == "template id 'acme.medical_devices' does not match the file name"


def test_errors_from_several_files_are_reported_together(tmp_path):
    write(tmp_path, "saas.yaml", shipped_text("saas").replace("threshold: 0.9", "threshold: 9"))
    write(tmp_path, "edtech.yaml", shipped_text("edtech").replace("min_count: 3", "min_count: 0"))
    sources = {Path(p.source).name for p in load_errors(tmp_path).problems}
    assert sources == {"saas.yaml", "edtech.yaml"}


def test_catalogue_refuses_conflicting_content_for_one_version():
    changed = copy_for_tenant(MEDICAL, "acme")
    other = copy_for_tenant(MEDICAL, "acme", SetBenchmarkDwell("lead", 5))
    with pytest.raises(AlreadyExists):
        TemplateCatalogue([changed, other])

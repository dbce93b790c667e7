import pytest

from services.actions.domain.errors import InvalidCommand, PreconditionFailed
from services.actions.domain.evidence import Verdict
from services.actions.domain.templates import (
    ActivityFacts,
    ActivityKind,
    Attachment,
    GateBlocked,
    Submission,
    best_verdicts,
    load_catalogue,
    missing_for_advance,
    require_advance,
)

CATALOGUE = load_catalogue()
MEDICAL = CATALOGUE.latest("medical_devices", tenant_id="t1")
NEEDS = MEDICAL.stage("needs_diagnosis")
VALID = Verdict(True)


def verdicts_for(stage, **overrides):
    out = {a.id: VALID for a in stage.mandatory_actions}
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def test_all_mandatory_actions_verified_lets_the_opportunity_advance():
    assert missing_for_advance(MEDICAL, "needs_diagnosis", "tender", verdicts_for(NEEDS)) == []
    require_advance(MEDICAL, "needs_diagnosis", "clinical_trial", verdicts_for(NEEDS))


def test_optional_actions_do_not_gate():
    assert "product_demonstration" in {a.id for a in NEEDS.actions}
    assert "product_demonstration" not in verdicts_for(NEEDS)
    assert missing_for_advance(MEDICAL, "needs_diagnosis", "tender", verdicts_for(NEEDS)) == []


def test_missing_and_invalid_actions_are_listed_with_why():
    form_verdict = Verdict(
        False,
        ("form 'needs_diagnosis_form' is 83 % complete (10 of 12 required fields); it counts above 90 %; "
         "missing: budget, decision_timeline",),
    )
    missing = missing_for_advance(
        MEDICAL,
        "needs_diagnosis",
        "tender",
        verdicts_for(NEEDS, needs_diagnosis_form=form_verdict, competitor_comparison=None),
    )
    assert [m.action_id for m in missing] == ["needs_diagnosis_form", "competitor_comparison"]
    form, sheet = missing
    assert form.submitted and form.why == form_verdict.reasons and form.evidence_kind == "form"
    assert not sheet.submitted
    assert sheet.why == (
        "not submitted; needs 1 attachment of type competitor_comparison (.xlsx, .xls, .csv, .pdf)",
    )
    assert sheet.name.zh == "竞品对比表"


def test_the_articles_needs_diagnosis_rule_end_to_end():
    """Verify real submissions with the shipped template's verifiers, then gate."""
    fields = NEEDS.action("needs_diagnosis_form").evidence.required_fields
    questions = ("扫描排队要多久?", "旧设备谁在维保?", "最常见的故障是什么?")
    sheet = Attachment("competitor_comparison", "竞品对比.xlsx", "f1", 9000)
    submissions = {
        "needs_diagnosis_form": Submission(form={f: "x" for f in fields}),
        "pain_point_questions": Submission(items={"pain_point_question": questions}),
        "competitor_comparison": Submission(attachments=(sheet,)),
    }
    verdicts = {aid: NEEDS.action(aid).evidence.verify(s) for aid, s in submissions.items()}
    assert all(v.valid for v in verdicts.values())
    assert missing_for_advance(MEDICAL, "needs_diagnosis", "tender", verdicts) == []
    # Only two pain-point questions: the gate stays shut and says why.
    verdicts["pain_point_questions"] = NEEDS.action("pain_point_questions").evidence.verify(
        Submission(items={"pain_point_question": ("扫描排队要多久?", "旧设备谁在维保?")})
    )
    with pytest.raises(GateBlocked) as err:
        require_advance(MEDICAL, "needs_diagnosis", "tender", verdicts)
    assert [m.action_id for m in err.value.missing] == ["pain_point_questions"]
    assert "at least 3 'pain_point_question' items are required; 2 counted" in str(err.value)
    assert isinstance(err.value, PreconditionFailed)


def test_losing_is_never_gated():
    assert missing_for_advance(MEDICAL, "needs_diagnosis", "closed_lost", {}) == []


def test_winning_is_gated_by_the_last_stage():
    negotiation = MEDICAL.stage("negotiation")
    missing = missing_for_advance(MEDICAL, "negotiation", "closed_won", {})
    assert [m.action_id for m in missing] == [a.id for a in negotiation.mandatory_actions]
    assert "decision_maker_call" not in [m.action_id for m in missing]


def test_a_stage_not_in_next_is_refused():
    with pytest.raises(PreconditionFailed) as err:
        missing_for_advance(MEDICAL, "lead", "tender", {})
    assert str(err.value) == "lead may move only to qualification, closed_lost; not to tender"


def test_skipping_backwards_is_refused():
    with pytest.raises(PreconditionFailed):
        missing_for_advance(MEDICAL, "tender", "needs_diagnosis", {})


@pytest.mark.parametrize(
    "from_stage, to_stage, field", [("nowhere", "tender", "from_stage"), ("lead", "won", "to_stage")]
)
def test_unknown_stages_are_invalid(from_stage, to_stage, field):
    with pytest.raises(InvalidCommand) as err:
        missing_for_advance(MEDICAL, from_stage, to_stage, {})
    assert err.value.field == field


def test_closed_opportunities_do_not_move():
    with pytest.raises(PreconditionFailed) as err:
        missing_for_advance(MEDICAL, "closed_won", "closed_lost", {})
    assert "closed opportunities do not move" in str(err.value)


def test_best_verdicts_keeps_a_valid_one_and_otherwise_the_latest():
    first_bad = Verdict(False, ("call lasted 1 min",))
    later_bad = Verdict(False, ("call lasted 2 min",))
    best = best_verdicts(
        [("call", first_bad), ("call", VALID), ("call", later_bad), ("form", first_bad), ("form", later_bad)]
    )
    assert best == {"call": VALID, "form": later_bad}


def test_invalid_activity_does_not_open_the_gate():
    lead = MEDICAL.stage("lead")
    short_call = lead.action("first_contact_call").evidence.verify(
        Submission(activities=(ActivityFacts(ActivityKind.CALL, "call-9", minutes=1),))
    )
    verdicts = verdicts_for(lead, first_contact_call=short_call)
    missing = missing_for_advance(MEDICAL, "lead", "qualification", verdicts)
    assert [m.action_id for m in missing] == ["first_contact_call"]
    assert missing[0].why == ("needs a call of at least 3 min; call call-9: the call lasted 1 min",)

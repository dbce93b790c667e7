import pytest

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.templates import (
    ActivityEvidence,
    ActivityFacts,
    ActivityKind,
    ApprovalDecision,
    ApprovalEvidence,
    ApprovalFacts,
    Attachment,
    AttachmentEvidence,
    CountEvidence,
    FormEvidence,
    Submission,
)

FIELDS = (
    "clinical_scenario",
    "current_equipment",
    "equipment_age_years",
    "annual_case_volume",
    "key_clinical_requirements",
    "technical_parameters",
    "installation_conditions",
    "budget",
    "decision_timeline",
    "decision_makers",
    "competing_brands",
    "after_sales_expectations",
)
NEEDS_FORM = FormEvidence(form="needs_diagnosis_form", required_fields=FIELDS, threshold=0.9)


def filled(*missing, **overrides):
    values = {name: f"answer to {name}" for name in FIELDS if name not in missing}
    values.update(overrides)
    return Submission(form=values)


# ---- form ------------------------------------------------------------------------------


def test_form_complete_is_valid():
    verdict = NEEDS_FORM.verify(filled())
    assert verdict.valid and verdict.reasons == ()


def test_form_above_threshold_is_valid():
    # 11 of 12 = 91.7 % > 90 %
    assert NEEDS_FORM.verify(filled("budget")).valid


def test_form_below_threshold_names_share_rule_and_missing_fields():
    verdict = NEEDS_FORM.verify(filled("budget", "decision_timeline"))
    assert not verdict.valid
    assert verdict.reasons == (
        "form 'needs_diagnosis_form' is 83 % complete (10 of 12 required fields); it counts above 90 %; "
        "missing: budget, decision_timeline",
    )


def test_form_exactly_at_threshold_does_not_count():
    # The article: the form counts only when *more than* 90 % complete. 9 of 10 is 90 %.
    form = FormEvidence(form="f", required_fields=tuple(f"q{i}" for i in range(10)), threshold=0.9)
    verdict = form.verify(Submission(form={f"q{i}": "x" for i in range(9)}))
    assert not verdict.valid
    assert "is 90 % complete (9 of 10 required fields); it counts above 90 %; missing: q9" in verdict.reasons[0]


def test_form_blank_and_empty_values_are_not_filled_but_zero_and_false_are():
    submission = filled(budget="   ", decision_timeline=None, competing_brands=[], equipment_age_years=0)
    verdict = NEEDS_FORM.verify(submission)
    assert not verdict.valid
    assert "(9 of 12 required fields)" in verdict.reasons[0]
    assert verdict.reasons[0].endswith("missing: budget, decision_timeline, competing_brands")
    assert NEEDS_FORM.verify(filled(equipment_age_years=0, annual_case_volume=False)).valid


def test_form_threshold_one_needs_every_field():
    form = FormEvidence(form="terms", required_fields=("a", "b"), threshold=1)
    assert form.verify(Submission(form={"a": "x", "b": "y"})).valid
    verdict = form.verify(Submission(form={"a": "x"}))
    assert verdict.reasons == (
        "form 'terms' is 50 % complete (1 of 2 required fields); it counts only when every required field is filled; "
        "missing: b",
    )


def test_form_lists_at_most_five_missing_fields():
    verdict = NEEDS_FORM.verify(Submission(form={}))
    assert verdict.reasons[0].endswith(
        "missing: clinical_scenario, current_equipment, equipment_age_years, annual_case_volume, "
        "key_clinical_requirements and 7 more"
    )


@pytest.mark.parametrize(
    "params, field",
    [
        ({"threshold": 0}, "threshold"),
        ({"threshold": 1.01}, "threshold"),
        ({"threshold": -0.5}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"required_fields": ()}, "required_fields"),
        ({"required_fields": ("a", "a")}, "required_fields"),
        ({"required_fields": ("Has Space",)}, "required_fields"),
        ({"form": ""}, "form"),
    ],
)
def test_form_parameters_are_checked(params, field):
    args = {"form": "f", "required_fields": ("a",), "threshold": 0.9, **params}
    with pytest.raises(InvalidCommand) as err:
        FormEvidence(**args)
    assert err.value.field == field


# ---- count -----------------------------------------------------------------------------

PAIN_POINTS = CountEvidence(item="pain_point_question", min_count=3, min_chars=8)


def test_count_three_distinct_items_is_valid():
    items = ("How long do scans queue today?", "Who services the old unit?", "What fails most often?")
    assert PAIN_POINTS.verify(Submission(items={"pain_point_question": items})).valid


def test_count_ignores_blank_repeated_and_short_items_and_says_so():
    items = ("How long do scans queue today?", "  how long do  scans queue today? ", "", "Why?", "Who services it now?")
    verdict = PAIN_POINTS.verify(Submission(items={"pain_point_question": items}))
    assert not verdict.valid
    assert verdict.reasons == (
        "at least 3 'pain_point_question' items are required; 2 counted "
        "(1 blank, 1 repeated, 1 shorter than 8 characters ignored)",
    )


def test_count_with_no_items():
    verdict = PAIN_POINTS.verify(Submission(items={"other": ("a", "b", "c")}))
    assert verdict.reasons == ("at least 3 'pain_point_question' items are required; 0 counted",)


@pytest.mark.parametrize(
    "params, field",
    [({"min_count": 0}, "min_count"), ({"min_chars": -1}, "min_chars"), ({"min_count": 2.5}, "min_count")],
)
def test_count_parameters_are_checked(params, field):
    with pytest.raises(InvalidCommand) as err:
        CountEvidence(**{"item": "x", "min_count": 3, **params})
    assert err.value.field == field


# ---- attachment ------------------------------------------------------------------------

SHEET = AttachmentEvidence(document_types=("competitor_comparison",), extensions=("xlsx", "pdf"))


def test_attachment_of_declared_type_and_extension_is_valid():
    verdict = SHEET.verify(Submission(attachments=(Attachment("competitor_comparison", "对比表.XLSX", "f1", 2048),)))
    assert verdict.valid


def test_attachment_missing():
    assert SHEET.verify(Submission()).reasons == (
        "needs 1 attachment of type competitor_comparison (.xlsx, .pdf); nothing is attached",
    )


def test_attachment_wrong_type_extension_or_empty_file_are_explained():
    verdict = SHEET.verify(
        Submission(
            attachments=(
                Attachment("meeting_minutes", "notes.docx"),
                Attachment("competitor_comparison", "sheet.png"),
                Attachment("competitor_comparison", "sheet"),
                Attachment("competitor_comparison", "empty.xlsx", size_bytes=0),
            )
        )
    )
    assert not verdict.valid
    assert verdict.reasons == (
        "needs 1 attachment of type competitor_comparison (.xlsx, .pdf); 'notes.docx' is a meeting_minutes, "
        "'sheet.png' has extension .png, 'sheet' has no extension, 'empty.xlsx' is empty",
    )


def test_attachment_min_files_counts_distinct_files():
    reports = AttachmentEvidence(document_types=("weekly_report",), extensions=("pdf",), min_files=2)
    same_twice = (Attachment("weekly_report", "w1.pdf", "f1"), Attachment("weekly_report", "w1.pdf", "f1"))
    verdict = reports.verify(Submission(attachments=same_twice))
    assert verdict.reasons == ("needs 2 attachments of type weekly_report (.pdf); 1 accepted",)
    assert reports.verify(
        Submission(
            attachments=(Attachment("weekly_report", "w1.pdf", "f1"), Attachment("weekly_report", "w2.pdf", "f2"))
        )
    ).valid


@pytest.mark.parametrize(
    "params, field, words",
    [
        ({"extensions": (".xlsx",)}, "extensions", "without the dot"),
        ({"extensions": ()}, "extensions", "at least one"),
        ({"document_types": ()}, "document_types", "at least one"),
        ({"min_files": 0}, "min_files", "at least 1"),
    ],
)
def test_attachment_parameters_are_checked(params, field, words):
    with pytest.raises(InvalidCommand) as err:
        AttachmentEvidence(**{"document_types": ("x",), "extensions": ("pdf",), **params})
    assert err.value.field == field and words in err.value.problem


# ---- activity --------------------------------------------------------------------------

CALL = ActivityEvidence(activity="call", min_minutes=10)
VISIT = ActivityEvidence(activity="visit")
REPLY = ActivityEvidence(activity="email_reply")


def test_call_long_enough_is_valid():
    assert CALL.verify(Submission(activities=(ActivityFacts(ActivityKind.CALL, "call-1", minutes=12),))).valid


def test_call_too_short():
    verdict = CALL.verify(Submission(activities=(ActivityFacts(ActivityKind.CALL, "call-1", minutes=6),)))
    assert verdict.reasons == ("needs a call of at least 10 min; call call-1: the call lasted 6 min",)


def test_any_qualifying_call_counts():
    calls = (ActivityFacts(ActivityKind.CALL, "c1", minutes=4), ActivityFacts(ActivityKind.CALL, "c2", minutes=15))
    assert CALL.verify(Submission(activities=calls)).valid


def test_activity_without_event_is_not_evidence():
    verdict = CALL.verify(Submission(activities=(ActivityFacts(ActivityKind.CALL, "", minutes=30),)))
    assert verdict.reasons == (
        "needs a call of at least 10 min; "
        "call (no event id): it does not reference the activity event that recorded it",
    )


def test_effective_visit_is_valid_and_ineffective_is_not():
    assert VISIT.require_effective is True
    assert VISIT.verify(Submission(activities=(ActivityFacts(ActivityKind.VISIT, "chk-1", 40, effective=True),))).valid
    verdict = VISIT.verify(Submission(activities=(ActivityFacts(ActivityKind.VISIT, "chk-2", 12, effective=False),)))
    assert verdict.reasons == (
        "needs an effective visit; visit chk-2: the activity stream did not mark the visit effective "
        "(on site, inside the customer's geofence, long enough)",
    )


def test_visit_with_minimum_length():
    demo = ActivityEvidence(activity="visit", min_minutes=60)
    verdict = demo.verify(Submission(activities=(ActivityFacts(ActivityKind.VISIT, "chk-3", 45, effective=True),)))
    assert verdict.reasons == ("needs an effective visit of at least 60 min; visit chk-3: the visit lasted 45 min",)


def test_wrong_activity_kind_or_none():
    verdict = VISIT.verify(Submission(activities=(ActivityFacts(ActivityKind.CALL, "c1", 30),)))
    assert verdict.reasons == ("needs an effective visit; the attached activity is a call",)
    assert VISIT.verify(Submission()).reasons == ("needs an effective visit; no activity is attached",)


def test_email_reply_needs_the_reply_message_id():
    ok = ActivityFacts(ActivityKind.EMAIL_REPLY, "mail-1", reply_message_id="<abc@customer.cn>")
    assert REPLY.verify(Submission(activities=(ok,))).valid
    verdict = REPLY.verify(Submission(activities=(ActivityFacts(ActivityKind.EMAIL_REPLY, "mail-2"),)))
    assert verdict.reasons == (
        "needs an email reply from the customer; email_reply mail-2: it has no message id for the customer's reply",
    )


@pytest.mark.parametrize(
    "params, field",
    [
        ({"activity": "call"}, "min_minutes"),
        ({"activity": "call", "min_minutes": 0}, "min_minutes"),
        ({"activity": "email_reply", "min_minutes": 5}, "min_minutes"),
        ({"activity": "call", "min_minutes": 5, "require_effective": True}, "require_effective"),
        ({"activity": "meeting"}, "activity"),
    ],
)
def test_activity_parameters_are_checked(params, field):
    with pytest.raises(InvalidCommand) as err:
        ActivityEvidence(**params)
    assert err.value.field == field


# ---- approval --------------------------------------------------------------------------

LEGAL = ApprovalEvidence(approver_role="legal")


def approval(decision=ApprovalDecision.GRANTED, role="legal", approver="u-legal", approval_id="ap-1"):
    return ApprovalFacts(approval_id, role, decision, approver)


def test_granted_approval_of_the_role_is_valid():
    assert LEGAL.verify(Submission(approvals=(approval(),), submitted_by="rep-1")).valid


@pytest.mark.parametrize(
    "facts, reason",
    [
        (approval(ApprovalDecision.PENDING), "ap-1 is pending"),
        (approval(ApprovalDecision.REJECTED), "ap-1 is rejected"),
        (approval(role="manager"), "ap-1 was decided by a manager"),
        (approval(approval_id=""), "(no approval id) does not reference an approval record"),
        (approval(approver="rep-1"), "ap-1 was approved by the submitter themselves"),
    ],
)
def test_approval_invalid_paths(facts, reason):
    verdict = LEGAL.verify(Submission(approvals=(facts,), submitted_by="rep-1"))
    assert verdict.reasons == (f"needs an approval granted by a legal; {reason}",)


def test_no_approval():
    assert LEGAL.verify(Submission()).reasons == ("needs an approval granted by a legal; none is attached",)


# ---- submissions from plain data ---------------------------------------------------------


def test_submission_from_mapping():
    submission = Submission.from_mapping(
        {
            "form": {"budget": "2m"},
            "items": {"pain_point_question": ["a", "b"]},
            "attachments": [{"document_type": "competitor_comparison", "file_name": "c.xlsx", "size_bytes": 10}],
            "activities": [{"kind": "call", "event_id": "c1", "minutes": 12}],
            "approvals": [{"approval_id": "ap", "approver_role": "legal", "decision": "granted", "approver_id": "u"}],
            "submitted_by": "rep-1",
        }
    )
    assert submission.items["pain_point_question"] == ("a", "b")
    assert submission.activities[0].kind is ActivityKind.CALL
    assert CALL.verify(submission).valid and LEGAL.verify(submission).valid and SHEET.verify(submission).valid


@pytest.mark.parametrize(
    "data, field",
    [
        ({"fom": {}}, "submission"),
        ({"items": {"q": "not a list"}}, "submission.items.q"),
        ({"activities": [{"kind": "fax", "event_id": "x"}]}, "submission.activities[0].kind"),
        ({"activities": [{"kind": "call", "minutes": -1}]}, "submission.activities[0].minutes"),
        ({"attachments": [{"document_type": "x"}]}, "submission.attachments[0].file_name"),
        ({"approvals": [{"approver_role": "legal", "decision": "maybe"}]}, "submission.approvals[0].decision"),
    ],
)
def test_malformed_submission_is_refused(data, field):
    with pytest.raises(InvalidCommand) as err:
        Submission.from_mapping(data)
    assert err.value.field == field


def test_submission_is_immutable():
    submission = Submission(form={"a": 1})
    with pytest.raises(TypeError):
        submission.form["a"] = 2  # type: ignore[index]

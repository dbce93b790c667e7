from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from services.audit.domain import approvals as ap
from services.audit.domain import audit_log as log
from services.audit.domain.approvals import (
    NotifyActor,
    NotifyRole,
    ParallelGroup,
    ProposedChange,
    RequestApproved,
    RequestRejected,
    RequestStatus,
    Step,
    StepCancelled,
    StepCompleted,
    StepEscalated,
    StepOpened,
    WorkflowDefinition,
    WrongRole,
)
from services.audit.domain.errors import Conflict, Forbidden, InvalidCommand, PreconditionFailed
from services.audit.domain.workflows import load_workflows

SHIPPED = load_workflows()
CUSTOMER_GRADE_CHANGE = SHIPPED.latest("customer_grade_change")
STAGE_GATE_OVERRIDE = SHIPPED.latest("stage_gate_override")

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
GRADE = ProposedChange("account", "o1", "grade", "B", "A")


def submit_grade_change(**overrides):
    arguments = dict(
        request_id="r1",
        tenant_id="acme",
        change=GRADE,
        submitted_by="rep-1",
        submitter_roles={"rep"},
        reason="customer signed a three-year framework contract",
        at=T0,
    )
    arguments.update(overrides)
    return ap.submit(CUSTOMER_GRADE_CHANGE, **arguments)


def decide(request, actor, roles, step, verdict="approve", reason="", decision_id=None, at=T0 + H):
    return ap.decide(
        request,
        actor_id=actor,
        actor_roles=set(roles),
        step=step,
        verdict=verdict,
        reason=reason,
        decision_id=decision_id or f"d-{actor}-{step}",
        at=at,
    )


def manager_approved():
    return decide(submit_grade_change().state, "mgr-1", {"manager"}, "manager_approval")


def kinds(outcome):
    return [type(effect) for effect in outcome.effects]


# --- customer grade change -------------------------------------------------------------


def test_submitting_opens_the_manager_step_with_its_deadline():
    outcome = submit_grade_change()
    request = outcome.state
    assert request.status is RequestStatus.PENDING
    assert [s.name for s in request.open_steps] == ["manager_approval"]
    assert outcome.effects[0] == StepOpened("r1", "manager_approval", frozenset({"manager"}), T0 + 24 * H)
    assert [(e.role) for e in outcome.effects if isinstance(e, NotifyRole)] == ["manager"]


def test_grade_change_happy_path_changes_the_grade_only_after_finance():
    after_manager = manager_approved()
    assert after_manager.state.status is RequestStatus.PENDING
    assert kinds(after_manager) == [StepCompleted, StepOpened, NotifyRole]
    assert after_manager.effects[1] == StepOpened("r1", "finance_review", frozenset({"finance"}), T0 + H + 24 * H)
    assert not any(isinstance(e, RequestApproved) for e in after_manager.effects)

    done = decide(after_manager.state, "fin-1", {"finance"}, "finance_review", reason="credit checked", at=T0 + 2 * H)
    assert done.state.status is RequestStatus.APPROVED
    assert kinds(done) == [StepCompleted, RequestApproved, NotifyRole, NotifyActor]
    approved = done.effects[1]
    assert approved == RequestApproved("r1", "acme", "customer_grade_change", GRADE, ("mgr-1", "fin-1"))
    marketing = done.effects[2]
    assert marketing.role == "marketing" and "'B' → 'A'" in marketing.message
    assert done.effects[3].actor_id == "rep-1"
    assert done.state.open_steps == ()


def test_the_approved_change_is_recorded_as_a_system_change_naming_the_request():
    done = decide(manager_approved().state, "fin-1", {"finance"}, "finance_review", at=T0 + 2 * H)
    approved = next(e for e in done.effects if isinstance(e, RequestApproved))
    record = log.append(
        log.ChainHead.genesis("acme"),
        log.AuditDraft(
            tenant_id=approved.tenant_id,
            event_id=f"{approved.request_id}:applied",
            actor_id="system",
            actor_roles=(),
            entity_type=approved.change.entity_type,
            entity_id=approved.change.entity_id,
            field=approved.change.field,
            before=approved.change.before,
            after=approved.change.after,
            occurred_at=T0 + 2 * H,
            source=log.Source.SYSTEM,
            reason=f"approval request {approved.request_id} ({approved.workflow}) approved by "
            + ", ".join(approved.approved_by),
        ),
    )
    assert log.verify([record]).ok and record.source is log.Source.SYSTEM


def test_finance_cannot_review_before_the_manager_approves():
    with pytest.raises(PreconditionFailed, match="finance_review is not open yet.*waits for manager_approval"):
        decide(submit_grade_change().state, "fin-1", {"finance"}, "finance_review")


def test_a_manager_rejection_ends_the_request_with_its_reason():
    request = submit_grade_change().state
    with pytest.raises(InvalidCommand) as caught:
        decide(request, "mgr-1", {"manager"}, "manager_approval", verdict="reject", reason="  ")
    assert caught.value.field == "reason" and "a rejection must say why" in str(caught.value)

    outcome = decide(request, "mgr-1", {"manager"}, "manager_approval", verdict="reject", reason="no contract yet")
    assert outcome.state.status is RequestStatus.REJECTED
    assert kinds(outcome) == [StepCompleted, RequestRejected, NotifyActor]
    rejected = outcome.effects[1]
    assert (rejected.step, rejected.rejected_by, rejected.reason) == ("manager_approval", "mgr-1", "no contract yet")
    assert "no contract yet" in outcome.effects[2].message and outcome.effects[2].actor_id == "rep-1"


def test_finance_may_reject_after_the_manager_approved():
    approved = manager_approved().state
    outcome = decide(approved, "fin-1", {"finance"}, "finance_review", verdict="reject", reason="overdue")
    assert outcome.state.status is RequestStatus.REJECTED
    assert not any(isinstance(e, RequestApproved) for e in outcome.effects)


def test_a_finished_request_takes_no_more_decisions():
    rejected = decide(submit_grade_change().state, "mgr-1", {"manager"}, "manager_approval", "reject", "no").state
    with pytest.raises(PreconditionFailed, match="request r1 is already rejected"):
        decide(rejected, "mgr-2", {"manager"}, "manager_approval")
    approved = decide(manager_approved().state, "fin-1", {"finance"}, "finance_review").state
    with pytest.raises(PreconditionFailed, match="already approved"):
        decide(approved, "fin-2", {"finance"}, "finance_review", verdict="reject", reason="late objection")


@pytest.mark.parametrize("roles", [{"rep"}, {"finance"}, {"director"}, set()])
def test_only_a_manager_decides_the_manager_step(roles):
    with pytest.raises(WrongRole) as caught:
        decide(submit_grade_change().state, "someone", roles, "manager_approval")
    assert caught.value.required_roles == frozenset({"manager"})
    assert "needs one of the roles manager" in str(caught.value)
    assert isinstance(caught.value, Forbidden)


def test_repeating_a_decision_returns_the_same_state_and_no_effects():
    first = manager_approved()
    again = decide(first.state, "mgr-1", {"manager"}, "manager_approval", at=T0 + 3 * H)
    assert again.state is first.state and again.effects == ()
    # Still a no-op once the request has moved on and even finished.
    done = decide(first.state, "fin-1", {"finance"}, "finance_review").state
    assert decide(done, "mgr-1", {"manager"}, "manager_approval").effects == ()
    assert decide(done, "fin-1", {"finance"}, "finance_review").state is done


def test_a_decision_id_cannot_be_reused_for_another_decision():
    first = manager_approved()
    with pytest.raises(Conflict, match="decision d-mgr-1-manager_approval was already used by mgr-1 to approve"):
        decide(first.state, "mgr-1", {"manager"}, "manager_approval", "reject", "changed my mind",
               decision_id="d-mgr-1-manager_approval")


def test_an_actor_cannot_change_their_decision_under_a_new_id():
    first = manager_approved()
    with pytest.raises(Conflict, match="mgr-1 already decided to approve step manager_approval"):
        decide(first.state, "mgr-1", {"manager"}, "manager_approval", "reject", "oops", decision_id="d-2")


def test_another_approver_cannot_decide_a_step_already_decided():
    first = manager_approved()
    with pytest.raises(PreconditionFailed, match="step manager_approval was already decided by mgr-1"):
        decide(first.state, "mgr-2", {"manager"}, "manager_approval")


def test_the_submitter_cannot_approve_their_own_request():
    request = submit_grade_change(submitted_by="mgr-1", submitter_roles={"manager"}).state
    with pytest.raises(Forbidden, match="mgr-1 submitted request r1 and cannot decide it"):
        decide(request, "mgr-1", {"manager"}, "manager_approval")


def test_one_person_decides_at_most_one_step():
    request = decide(submit_grade_change().state, "boss", {"manager", "finance"}, "manager_approval").state
    with pytest.raises(Forbidden, match="boss already decided step manager_approval"):
        decide(request, "boss", {"manager", "finance"}, "finance_review")


def test_an_unknown_step_is_named_with_the_steps_there_are():
    with pytest.raises(InvalidCommand) as caught:
        decide(submit_grade_change().state, "mgr-1", {"manager"}, "ceo_signoff")
    assert caught.value.field == "step"
    assert "unknown step 'ceo_signoff'" in str(caught.value) and "manager_approval, finance_review" in str(caught.value)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"verdict": "maybe"}, "verdict"),
        ({"decision_id": "has space"}, "decision_id"),
        ({"at": datetime(2026, 11, 2, 10)}, "at"),
        ({"at": T0 - H}, "at"),
    ],
)
def test_malformed_decisions_are_refused(overrides, field):
    arguments = dict(actor="mgr-1", roles={"manager"}, step="manager_approval")
    arguments.update(overrides)
    with pytest.raises(InvalidCommand) as caught:
        decide(submit_grade_change().state, **arguments)
    assert caught.value.field == field


# --- submitting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"reason": ""}, "reason"),
        ({"change": ProposedChange("account", "o1", "credit_limit", 1, 2)}, "change.field"),
        ({"change": ProposedChange("opportunity", "a1", "grade", "B", "A")}, "change.field"),
        ({"change": ProposedChange("account", "o1", "grade", "B", "B")}, "change.after"),
        ({"change": ProposedChange("account", "o1", "grade", "B", 1.5)}, "change.after"),
        ({"change": ProposedChange("account", "", "grade", "B", "A")}, "change.entity_id"),
        ({"request_id": "has space"}, "request_id"),
        ({"at": datetime(2026, 11, 2, 9)}, "at"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidCommand) as caught:
        submit_grade_change(**overrides)
    assert caught.value.field == field


def test_only_sales_roles_submit_a_grade_change():
    with pytest.raises(WrongRole) as caught:
        submit_grade_change(submitted_by="fin-1", submitter_roles={"finance"})
    assert "rep" in str(caught.value) and caught.value.required_roles == CUSTOMER_GRADE_CHANGE.submitter_roles


def test_submitting_again_is_a_no_op_and_a_conflicting_submission_is_refused():
    first = submit_grade_change().state
    again = submit_grade_change(existing=first, at=T0 + H)
    assert again.state is first and again.effects == ()
    with pytest.raises(Conflict, match="request r1 already exists with other details"):
        submit_grade_change(existing=first, change=ProposedChange("account", "o1", "grade", "B", "C"))


# --- parallel groups ------------------------------------------------------------------


def contract_review():
    return WorkflowDefinition(
        name="large_discount",
        version=1,
        description="discount above the manager's limit",
        entity_type="opportunity",
        field="discount_percent",
        submitter_roles=frozenset({"rep"}),
        stages=(
            ParallelGroup(
                (
                    Step("finance_check", frozenset({"finance"}), 4 * H, "director"),
                    Step("delivery_check", frozenset({"delivery"}), 8 * H, "director"),
                )
            ),
            Step("director_signoff", frozenset({"director"}), 24 * H, "admin"),
        ),
    )


def submit_discount():
    return ap.submit(
        contract_review(),
        request_id="r2",
        tenant_id="acme",
        change=ProposedChange("opportunity", "o1", "discount_percent", 10, 25),
        submitted_by="rep-1",
        submitter_roles={"rep"},
        reason="strategic logo",
        at=T0,
    )


def test_a_parallel_group_opens_all_its_steps_and_needs_all_of_them():
    opened = submit_discount()
    assert [e.step for e in opened.effects if isinstance(e, StepOpened)] == ["finance_check", "delivery_check"]

    one = decide(opened.state, "fin-1", {"finance"}, "finance_check")
    assert kinds(one) == [StepCompleted]
    assert [s.name for s in one.state.open_steps] == ["delivery_check"]
    with pytest.raises(PreconditionFailed, match="director_signoff is not open yet"):
        decide(one.state, "dir-1", {"director"}, "director_signoff")

    both = decide(one.state, "del-1", {"delivery"}, "delivery_check")
    assert kinds(both) == [StepCompleted, StepOpened, NotifyRole]
    assert both.effects[1].step == "director_signoff"
    done = decide(both.state, "dir-1", {"director"}, "director_signoff")
    assert done.state.status is RequestStatus.APPROVED
    assert done.effects[1].approved_by == ("fin-1", "del-1", "dir-1")


def test_the_order_inside_a_parallel_group_does_not_matter():
    opened = submit_discount().state
    a = decide(decide(opened, "fin-1", {"finance"}, "finance_check").state, "del-1", {"delivery"}, "delivery_check")
    b = decide(decide(opened, "del-1", {"delivery"}, "delivery_check").state, "fin-1", {"finance"}, "finance_check")
    assert a.state.status == b.state.status and [s.name for s in a.state.open_steps] == ["director_signoff"]
    assert [s.name for s in b.state.open_steps] == ["director_signoff"]


def test_a_rejection_in_a_parallel_group_cancels_the_sibling():
    outcome = decide(submit_discount().state, "fin-1", {"finance"}, "finance_check", "reject", "margin too thin")
    assert outcome.state.status is RequestStatus.REJECTED
    assert kinds(outcome) == [StepCompleted, StepCancelled, RequestRejected, NotifyActor]
    assert outcome.effects[1] == StepCancelled("r2", "delivery_check")


# --- escalation -----------------------------------------------------------------------


def test_nothing_escalates_before_the_deadline():
    request = submit_grade_change().state
    assert ap.escalate_overdue(request, T0 + 24 * H - timedelta(seconds=1)).effects == ()


def test_an_overdue_step_escalates_once():
    request = submit_grade_change().state
    first = ap.escalate_overdue(request, T0 + 24 * H)
    assert first.effects[0] == StepEscalated("r1", "manager_approval", "director", T0 + 24 * H)
    assert isinstance(first.effects[1], NotifyRole) and first.effects[1].role == "director"
    assert "overdue" in first.effects[1].message
    assert first.state.step_state("manager_approval").escalated
    assert ap.escalate_overdue(first.state, T0 + 48 * H).effects == ()


def test_after_escalation_the_escalation_role_may_decide():
    request = submit_grade_change().state
    with pytest.raises(WrongRole):
        decide(request, "dir-1", {"director"}, "manager_approval")
    escalated = ap.escalate_overdue(request, T0 + 25 * H).state
    outcome = decide(escalated, "dir-1", {"director"}, "manager_approval", at=T0 + 26 * H)
    assert outcome.state.step_state("manager_approval").decision.actor_id == "dir-1"
    # The next step gets its own full deadline from when it opens.
    assert outcome.effects[1] == StepOpened("r1", "finance_review", frozenset({"finance"}), T0 + 50 * H)


def test_each_overdue_step_of_a_group_escalates_once_on_its_own_deadline():
    request = submit_discount().state
    early = ap.escalate_overdue(request, T0 + 5 * H)
    assert [e.step for e in early.effects if isinstance(e, StepEscalated)] == ["finance_check"]
    late = ap.escalate_overdue(early.state, T0 + 9 * H)
    assert [e.step for e in late.effects if isinstance(e, StepEscalated)] == ["delivery_check"]
    assert ap.escalate_overdue(late.state, T0 + 99 * H).effects == ()


def test_decided_and_finished_requests_do_not_escalate():
    approved_step = manager_approved().state
    # The manager step's deadline (T0 + 24 h) has passed, but it was decided; finance's runs to T0 + 25 h.
    assert ap.escalate_overdue(approved_step, T0 + 24 * H + H / 2).effects == ()
    finished = decide(approved_step, "fin-1", {"finance"}, "finance_review", "reject", "no").state
    assert ap.escalate_overdue(finished, T0 + 999 * H).effects == ()


# --- stage-gate override --------------------------------------------------------------

GATE = ProposedChange("opportunity", "o7", "stage", "needs_diagnosis", "proposal")


def submit_override():
    return ap.submit(
        STAGE_GATE_OVERRIDE,
        request_id="g1",
        tenant_id="acme",
        change=GATE,
        submitted_by="mgr-1",
        submitter_roles={"manager"},
        reason="customer sent the competitor sheet by post",
        at=T0,
    )


def test_a_gate_override_needs_a_reason_even_to_approve():
    with pytest.raises(InvalidCommand, match="director_review approves only with a reason"):
        decide(submit_override().state, "dir-1", {"director"}, "director_review")


def test_a_director_approves_a_gate_override():
    outcome = decide(submit_override().state, "dir-1", {"director"}, "director_review", reason="evidence seen on paper")
    assert outcome.state.status is RequestStatus.APPROVED
    approved = next(e for e in outcome.effects if isinstance(e, RequestApproved))
    assert approved.change == GATE and approved.approved_by == ("dir-1",)
    assert outcome.state.decisions[0].reason == "evidence seen on paper"
    assert outcome.state.decisions[0].actor_roles == ("director",)


@pytest.mark.parametrize("roles", [{"rep"}, {"manager"}, {"finance"}])
def test_only_a_director_reviews_a_gate_override(roles):
    with pytest.raises(WrongRole) as caught:
        decide(submit_override().state, "someone", roles, "director_review", reason="trust me")
    assert caught.value.required_roles == frozenset({"director"})


def test_a_rep_cannot_submit_a_gate_override():
    with pytest.raises(WrongRole):
        ap.submit(
            STAGE_GATE_OVERRIDE, request_id="g2", tenant_id="acme", change=GATE, submitted_by="rep-1",
            submitter_roles={"rep"}, reason="in a hurry", at=T0,
        )


# --- definitions ----------------------------------------------------------------------


def step(name="s", roles=frozenset({"manager"}), deadline=H, escalation="director"):
    return Step(name, roles, deadline, escalation)


@pytest.mark.parametrize(
    "stages, field",
    [
        ((), "stages"),
        ((step(roles=frozenset({"boss"})),), "stages[0].approver_roles"),
        ((step(roles=frozenset()),), "stages[0].approver_roles"),
        ((step(escalation="ceo"),), "stages[0].escalation_role"),
        ((step(deadline=timedelta(0)),), "stages[0].deadline"),
        ((step(name="Bad Name"),), "stages[0].name"),
        ((step("a"), step("a")), "stages[1].name"),
        ((ParallelGroup((step("a"),)),), "stages[0]"),
        ((step("a"), ParallelGroup((step("b"), step("a")))), "stages[1].steps[1].name"),
    ],
)
def test_malformed_definitions_are_refused_naming_the_place(stages, field):
    with pytest.raises(InvalidCommand) as caught:
        WorkflowDefinition("w", 1, "d", "opportunity", "grade", frozenset({"rep"}), stages)
    assert caught.value.field == field


def test_a_request_keeps_the_definition_it_was_submitted_under():
    request = submit_grade_change().state
    slow, finance = CUSTOMER_GRADE_CHANGE.stages
    faster = replace(CUSTOMER_GRADE_CHANGE, version=2, stages=(replace(slow, deadline=2 * H), finance))
    assert request.workflow == CUSTOMER_GRADE_CHANGE != faster
    assert replace(request, workflow=faster).workflow.step("manager_approval").deadline == 2 * H
    assert request.workflow.step("manager_approval").deadline == 24 * H


def test_shipped_workflows():
    grade = CUSTOMER_GRADE_CHANGE
    assert (grade.entity_type, grade.field) == ("account", "grade")
    assert [s.name for s in grade.steps] == ["manager_approval", "finance_review"]
    assert [s.approver_roles for s in grade.steps] == [frozenset({"manager"}), frozenset({"finance"})]
    assert grade.notify_on_approval == ("marketing",) and "rep" in grade.submitter_roles
    gate = STAGE_GATE_OVERRIDE
    assert (gate.entity_type, gate.field) == ("opportunity", "stage")
    assert gate.submitter_roles == frozenset({"manager", "director"})
    assert gate.steps[0].approver_roles == frozenset({"director"}) and gate.steps[0].reason_required


# --- who sees and decides what ---------------------------------------------------------


def test_pending_steps_are_shown_to_whoever_may_decide_them_now():
    request = submit_grade_change().state
    assert ap.decidable_steps(request, "mgr-1", {"manager"}) == ("manager_approval",)
    assert ap.decidable_steps(request, "fin-1", {"finance"}) == ()  # not open yet
    assert ap.decidable_steps(request, "rep-1", {"rep", "manager"}) == ()  # the submitter
    after = manager_approved().state
    assert ap.decidable_steps(after, "fin-1", {"finance"}) == ("finance_review",)
    assert ap.decidable_steps(after, "mgr-1", {"manager", "finance"}) == ()  # already decided a step
    escalated = ap.escalate_overdue(after, T0 + 30 * H).state
    assert ap.decidable_steps(escalated, "dir-1", {"director"}) == ("finance_review",)


def test_who_may_read_a_request():
    request = manager_approved().state
    auditors = frozenset({"admin", "director"})
    assert ap.may_view(request, "rep-1", {"rep"}, auditors)  # the submitter
    assert ap.may_view(request, "mgr-1", {"rep"}, auditors)  # decided a step
    assert ap.may_view(request, "fin-2", {"finance"}, auditors)
    assert ap.may_view(request, "adm", {"admin"}, auditors)
    assert not ap.may_view(request, "rep-2", {"rep"}, auditors)
    assert not ap.may_view(request, "mkt", {"marketing"}, auditors)

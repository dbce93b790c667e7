"""Every write path of the actions API asks audit Check first, for the caller, with the
record's current state; a denial is PERMISSION_DENIED naming the rule (with the rule in
the rich status details) and an unreachable audit is UNAVAILABLE — and nothing is
appended in either case. Accounts: master data, the won-customer state Check decides
on, the grade change request, and the approval outcomes applied by the worker.

Real Redis; the "broker" applies each appended event straight to the real projectors,
as the worker would, so the API reads its own writes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2, status_pb2

from dealpulse.actions.v1 import actions_service_pb2 as api
from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.actions.v1 import leads_service_pb2 as leads_api
from dealpulse.audit.v1 import audit_service_pb2 as audit_api
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel import grpc_server
from kernel.audit_approvals import ApprovalRefused
from kernel.audit_check import AuditUnavailable, FieldDenial, PolicyDenied
from kernel.auth import Principal
from kernel.clock import FixedClock
from kernel.deadlines import DeadlineStore
from kernel.envelope import Envelope
from kernel.topics import ACCOUNT, CUSTOMER_GRADE_CHANGED, OPPORTUNITY, POLICY, REP, TEMPLATE, TODO_CREATED
from services.actions.adapters.approval_outcomes import ApprovalOutcomes
from services.actions.adapters.grpc_api import ActionsApi
from services.actions.adapters.lead_grpc import CREATED_FIELDS, LeadsApi
from services.actions.adapters.lead_store import LeadStore
from services.actions.adapters.messages import timestamp
from services.actions.adapters.projector import ActionsProjector
from services.actions.adapters.read_models import ActionsReadModel, Position

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Aborted(Exception):
    def __init__(self, code, details, trailing_metadata=()):
        super().__init__(f"{code.name}: {details}")
        self.code, self.details, self.trailing = code, details, dict(trailing_metadata or ())


class Context:
    async def abort(self, code, details, trailing_metadata=()):
        raise Aborted(code, details, trailing_metadata)


class RecordingPublisher:
    def __init__(self):
        self.published = []

    async def publish(self, spec, payload, *, key, tenant_id, event_time, event_id=None):
        self.published.append((spec.name, payload, event_id))
        return None, 0, len(self.published)


class Broker:
    """Appends go straight to the projectors, at increasing offsets of one partition."""

    def __init__(self, projector: ActionsProjector):
        self.projector = projector
        self.offset = 0
        self.appended = []

    async def publish(self, spec, payload, *, key, tenant_id, event_time, event_id=None):
        self.offset += 1
        envelope = Envelope.for_topic(spec, source="test", subject=key, tenant_id=tenant_id, time=event_time, event_id=event_id)
        self.appended.append((spec.name, payload))
        at = Position(0, self.offset)
        p = self.projector
        if spec is ACCOUNT:
            await p.on_account_event(envelope, payload, at)
        elif spec is OPPORTUNITY:
            await p.on_opportunity_event(envelope, payload, at)
        elif spec is REP:
            await p.on_rep_event(payload, at)
        elif spec is POLICY:
            await p.on_policy_event(payload, at)
        elif spec is TEMPLATE:
            await p.on_template_event(payload, at)
        return envelope, 0, self.offset


class FakeAudit:
    """Decides like the policy would for these tests: a won customer's grade is denied."""

    def __init__(self):
        self.asked = []
        self.unavailable = False
        self.deny: dict[str, str] = {}

    async def require(self, token, *, entity_type, entity_id, fields, record_state, source="api"):
        self.asked.append((token, entity_type, entity_id, tuple(fields), dict(record_state)))
        if self.unavailable:
            raise AuditUnavailable("audit Check failed: UNAVAILABLE")
        denied = [f for f in fields if f in self.deny]
        if entity_type == "account" and record_state.get("customer_won") and "grade" in fields:
            denied.append("grade")
            self.deny.setdefault("grade", "customer-grade-locked-after-win")
        if denied:
            raise PolicyDenied(
                [FieldDenial(f, self.deny[f], "denied", "SEC-SALES-2026-02", 1,
                             "customer_grade_change" if f == "grade" else "") for f in denied]
            )
        return audit_api.CheckResponse(allowed=True)


class FakeApprovals:
    def __init__(self):
        self.submitted = []
        self.refuse: grpc.StatusCode | None = None

    async def submit(self, token, **request):
        if self.refuse:
            raise ApprovalRefused(self.refuse, "submitting needs one of the roles manager")
        self.submitted.append((token, request))
        return audit_api.ApprovalRequest(
            request_id=request["request_id"], workflow=request["workflow"], submitted_by="bob",
            status=audit_events.APPROVAL_STATUS_PENDING,
        )


class Outbox:
    def __init__(self):
        self.enqueued = []

    async def enqueue(self, notification):
        self.enqueued.append(notification)
        return True


@pytest.fixture
async def world(redis):
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    read_model = ActionsReadModel(redis)
    side_effects = RecordingPublisher()
    outbox = Outbox()
    projector = ActionsProjector(
        read_model,
        DeadlineStore(redis, f"test.stall.{tenant}"),
        side_effects,
        DeadlineStore(redis, f"test.escalation.{tenant}"),
        outbox=outbox,
    )
    broker = Broker(projector)
    audit, approvals = FakeAudit(), FakeApprovals()
    actions = ActionsApi(read_model, broker, FixedClock(NOW), 2.0, audit, approvals)

    class World:
        pass

    w = World()
    w.tenant, w.read_model, w.broker, w.audit, w.approvals = tenant, read_model, broker, audit, approvals
    w.side_effects, w.outbox, w.api = side_effects, outbox, actions
    w.outcomes = ApprovalOutcomes(read_model, broker)

    async def call(method, request, subject="bob", *roles):
        grpc_server._principal.set(Principal(subject, tenant, frozenset(roles or ("rep",))))
        grpc_server._token.set(f"token-of-{subject}")
        return await getattr(actions, method)(request, Context())

    w.call = call
    return w


def mask(*paths):
    return field_mask_pb2.FieldMask(paths=list(paths))


async def won_account(w, grade="B"):
    await w.call("CreateAccount", api.CreateAccountRequest(account_id="ruijin", name="Ruijin", industry="medical"))
    await w.call("UpdateAccount", api.UpdateAccountRequest(account_id="ruijin", account=api.Account(grade=grade), update_mask=mask("grade")))
    await w.call("OpenOpportunity", api.OpenOpportunityRequest(
        opportunity_id="ct", account_id="ruijin", name="CT", amount_cents=100, currency="CNY"))
    await w.call("ChangeStage", api.ChangeStageRequest(opportunity_id="ct", to_stage="closed_won"))


# --- Check is asked, for the caller, with the record's state -----------------------------
async def test_every_write_asks_check_for_the_caller_with_the_records_state(world):
    w = world
    await w.call("RegisterRep", api.RegisterRepRequest(rep_id="bob", display_name="Bob", manager_id="ann"), "ann", "manager")
    await w.call("UpdateTenantPolicy", api.UpdateTenantPolicyRequest(
        policy=events.TenantPolicy(dwell_factor=3.0), update_mask=mask("dwell_factor")), "ann", "manager")
    await won_account(w)
    asked = [(token, entity, entity_id, fields, state) for token, entity, entity_id, fields, state in w.audit.asked]
    assert asked == [
        ("token-of-ann", "rep", "bob", ("display_name", "manager_id"), {"exists": False}),
        ("token-of-ann", "tenant_policy", "process", ("dwell_factor",), {"exists": True}),
        ("token-of-bob", "account", "ruijin", ("name", "industry", "owner_id"),
         {"exists": False, "owner_id": "bob", "customer_won": False, "grade": ""}),
        ("token-of-bob", "account", "ruijin", ("grade",),
         {"exists": True, "owner_id": "bob", "customer_won": False, "grade": ""}),
        ("token-of-bob", "opportunity", "ct",
         ("account_id", "name", "owner_id", "stage", "amount_cents", "currency", "template_id"),
         {"exists": False, "owner_id": "bob", "stage": "lead"}),
        ("token-of-bob", "opportunity", "ct", ("stage",), {"exists": True, "owner_id": "bob", "stage": "lead"}),
    ]


async def test_a_denial_names_the_rule_and_appends_nothing(world):
    w = world
    await w.call("CreateAccount", api.CreateAccountRequest(account_id="a1", name="A", industry="saas"))
    appended = len(w.broker.appended)
    w.audit.deny["contact_phone"] = "rep-contact-only-after-won"
    with pytest.raises(Aborted) as denied:
        await w.call("UpdateAccount", api.UpdateAccountRequest(
            account_id="a1", account=api.Account(contact_phone="+86 21 5555 0101"), update_mask=mask("contact_phone")))
    assert denied.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert "rep-contact-only-after-won" in denied.value.details
    status = status_pb2.Status.FromString(denied.value.trailing["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.metadata["rule_id"], info.metadata["field"]) == (
        "POLICY_DENIED", "rep-contact-only-after-won", "contact_phone")
    assert len(w.broker.appended) == appended


async def test_audit_unreachable_is_unavailable_and_appends_nothing(world):
    w = world
    w.audit.unavailable = True
    for method, request, who in [
        ("CreateAccount", api.CreateAccountRequest(account_id="a2", name="A", industry="saas"), ("bob", "rep")),
        ("RegisterRep", api.RegisterRepRequest(rep_id="bob", display_name="Bob"), ("ann", "manager")),
        ("SetStallPolicy", api.SetStallPolicyRequest(stall=events.StallPolicy(threshold_seconds=3600)), ("ann", "manager")),
    ]:
        with pytest.raises(Aborted) as refused:
            await w.call(method, request, *who)
        assert refused.value.code is grpc.StatusCode.UNAVAILABLE, method
    assert w.broker.appended == []


async def test_opportunity_commands_are_checked_before_they_append(world):
    w = world
    await w.call("CreateAccount", api.CreateAccountRequest(account_id="acc", name="A", industry="saas"))
    await w.call("OpenOpportunity", api.OpenOpportunityRequest(opportunity_id="o1", account_id="acc", name="n", currency="CNY"))
    appended = len(w.broker.appended)
    w.audit.deny.update(stage="rep-edits-own-open-opportunity", actions="x")
    with pytest.raises(Aborted) as denied:
        await w.call("ChangeStage", api.ChangeStageRequest(opportunity_id="o1", to_stage="qualification"))
    assert denied.value.code is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(Aborted):
        await w.call("RecordAction", api.RecordActionRequest(
            opportunity_id="o1", action_id="c1", kind=events.ACTION_KIND_CALL, call_duration_seconds=600))
    assert len(w.broker.appended) == appended
    assert [a[3] for a in w.audit.asked[-2:]] == [("stage",), ("actions",)]


# --- accounts -------------------------------------------------------------------------------
async def test_master_data_is_validated_and_only_changes_travel(world):
    w = world
    await w.call("CreateAccount", api.CreateAccountRequest(account_id="acc", name="Acme", industry="saas"))
    reply = await w.call("UpdateAccount", api.UpdateAccountRequest(
        account_id="acc",
        account=api.Account(address="1 Bund", latitude=31.23, longitude=121.47, contact_name="Li", decision_maker="Wang"),
        update_mask=mask("address", "latitude", "longitude", "contact_name", "decision_maker"),
    ))
    assert (reply.account.address, reply.account.latitude, reply.account.version) == ("1 Bund", 31.23, 2)
    name, event = w.broker.appended[-1]
    assert name == "actions.account.v1" and event.WhichOneof("change") == "updated"
    assert sorted(f.name for f, _ in event.updated.ListFields()) == [
        "address", "contact_name", "decision_maker", "latitude", "longitude"]
    appended = len(w.broker.appended)
    with pytest.raises(Aborted) as bad:
        await w.call("UpdateAccount", api.UpdateAccountRequest(
            account_id="acc", account=api.Account(latitude=95.0), update_mask=mask("latitude")))
    assert bad.value.code is grpc.StatusCode.INVALID_ARGUMENT and "latitude" in bad.value.details
    same = await w.call("UpdateAccount", api.UpdateAccountRequest(
        account_id="acc", account=api.Account(address="1 Bund"), update_mask=mask("address")))
    assert same.account.version == 2
    assert len(w.broker.appended) == appended


async def test_a_closed_won_opportunity_makes_its_account_a_won_customer(world):
    w = world
    await won_account(w)
    account = (await w.call("GetAccount", api.GetAccountRequest(account_id="ruijin"))).account
    assert account.customer_won and list(account.won_opportunity_ids) == ["ct"]
    appended = len(w.broker.appended)
    with pytest.raises(Aborted) as denied:
        await w.call("UpdateAccount", api.UpdateAccountRequest(
            account_id="ruijin", account=api.Account(grade="A"), update_mask=mask("grade")))
    assert denied.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert "customer-grade-locked-after-win" in denied.value.details
    assert w.audit.asked[-1][4] == {"exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"}
    assert len(w.broker.appended) == appended


async def test_a_direct_grade_edit_before_the_win_tells_bi_and_marketing(world):
    w = world
    await w.call("CreateAccount", api.CreateAccountRequest(account_id="acc", name="Acme", industry="saas"))
    await w.call("SetMarketingContact", api.SetMarketingContactRequest(
        account_id="acc", marketing_contact=api.MarketingContact(marketing_contact_id="mia", email="mia@example.com")))
    await w.call("UpdateAccount", api.UpdateAccountRequest(account_id="acc", account=api.Account(grade="c"), update_mask=mask("grade")))
    signals = [p for name, p, _ in w.side_effects.published if name == CUSTOMER_GRADE_CHANGED.name]
    assert [(s.from_grade, s.to_grade, s.changed_by) for s in signals] == [("", "C", "bob")]
    assert [(n.channel.value, n.recipients) for n in w.outbox.enqueued] == [("email", ("mia@example.com",))]


# --- the grade change request and its outcome ------------------------------------------------
def completion(w, request_id, status, *, before="B", after="A", rejected_by="", reason=""):
    return audit_events.ApprovalCompleted(
        tenant_id=w.tenant, request_id=request_id, workflow="customer_grade_change", workflow_version=1,
        change=audit_events.ProposedChange(entity_type="account", entity_id="ruijin", field="grade",
                                           before_json=json.dumps(before), after_json=json.dumps(after)),
        status=status, submitted_by="bob", approved_by=["ann", "fay"] if not rejected_by else ["ann"],
        rejected_by=rejected_by, rejected_step="finance_review" if rejected_by else "", rejection_reason=reason,
        completed_at=timestamp(NOW + timedelta(hours=1)),
        decisions=[audit_events.ApprovalDecisionRecord(step="manager_approval", actor_id="ann", actor_roles=["manager"],
                                                       verdict=audit_events.VERDICT_APPROVE)]
        + ([audit_events.ApprovalDecisionRecord(step="finance_review", actor_id="fay", actor_roles=["finance"],
                                                verdict=audit_events.VERDICT_APPROVE)] if not rejected_by else
           [audit_events.ApprovalDecisionRecord(step="finance_review", actor_id=rejected_by, actor_roles=["finance"],
                                                verdict=audit_events.VERDICT_REJECT, reason=reason)]),
    )


async def test_requesting_a_grade_change_submits_the_approval_with_a_stable_id(world):
    w = world
    await won_account(w)
    reply = await w.call("RequestGradeChange", api.RequestGradeChangeRequest(account_id="ruijin", grade="A", reason="doubled volume"))
    again = await w.call("RequestGradeChange", api.RequestGradeChangeRequest(account_id="ruijin", grade="A", reason="doubled volume"))
    assert reply.request.request_id == again.request.request_id and reply.request.status == "pending"
    token, submitted = w.approvals.submitted[0]
    assert token == "token-of-bob"
    assert {k: submitted[k] for k in ("workflow", "entity_type", "entity_id", "field", "before", "after")} == {
        "workflow": "customer_grade_change", "entity_type": "account", "entity_id": "ruijin",
        "field": "grade", "before": "B", "after": "A"}
    with pytest.raises(Aborted) as same:
        await w.call("RequestGradeChange", api.RequestGradeChangeRequest(account_id="ruijin", grade="B", reason="x"))
    assert same.value.code is grpc.StatusCode.INVALID_ARGUMENT
    w.approvals.refuse = grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(Aborted) as refused:
        await w.call("RequestGradeChange", api.RequestGradeChangeRequest(account_id="ruijin", grade="D", reason="x"))
    assert refused.value.code is grpc.StatusCode.PERMISSION_DENIED


async def test_an_approved_request_changes_the_grade_once_tells_bi_and_marketing(world):
    w = world
    await won_account(w)
    await w.call("SetMarketingContact", api.SetMarketingContactRequest(
        account_id="ruijin",
        marketing_contact=api.MarketingContact(marketing_contact_id="mia", email="mia@example.com",
                                               wecom_webhook_url="http://127.0.0.1:9/wecom", mention_id="mia")),
        "ann", "manager")
    approved = completion(w, "grade-req-1", audit_events.APPROVAL_STATUS_APPROVED)
    envelope = Envelope.for_topic(ACCOUNT, source="t", subject="x", tenant_id=w.tenant, time=NOW)
    await w.outcomes.on_completed(envelope, approved, Position(0, 1))
    await w.outcomes.on_completed(envelope, approved, Position(0, 1))  # redelivered at the same position
    await w.outcomes.on_completed(envelope, approved, Position(0, 2))  # re-published after a crash
    account = (await w.call("GetAccount", api.GetAccountRequest(account_id="ruijin"))).account
    assert (account.grade, account.grade_approval_request_id) == ("A", "grade-req-1")
    grade_events = [p for name, p in w.broker.appended if name == ACCOUNT.name and p.WhichOneof("change") == "grade_changed"]
    assert len(grade_events) == 1 and grade_events[0].actor_id == "system"
    assert list(grade_events[0].grade_changed.approved_by) == ["ann", "fay"]
    signals = [p for name, p, _ in w.side_effects.published if name == CUSTOMER_GRADE_CHANGED.name]
    # The first is the direct edit to B before the win; the approved change is told once.
    assert [(s.from_grade, s.to_grade, s.approval_request_id, s.changed_by) for s in signals] == [
        ("", "B", "", "bob"), ("B", "A", "grade-req-1", "bob")]
    assert sorted(n.channel.value for n in w.outbox.enqueued) == ["email", "wecom"]
    assert all("Ruijin" in n.title and "B → A" in n.title for n in w.outbox.enqueued)
    fact = await w.read_model.entity(w.tenant, "approval", "grade-req-1")
    assert fact[0] == {"approver_role": "finance", "decision": "granted", "approver_id": "fay"}


async def test_a_rejected_request_changes_nothing_and_tells_the_requester(world):
    w = world
    await won_account(w)
    appended = len(w.broker.appended)
    rejected = completion(w, "grade-req-2", audit_events.APPROVAL_STATUS_REJECTED, rejected_by="fay", reason="no new contract")
    await w.outcomes.on_completed(None, rejected, Position(0, 1))
    account = (await w.call("GetAccount", api.GetAccountRequest(account_id="ruijin"))).account
    assert account.grade == "B"
    assert [name for name, _ in w.broker.appended[appended:]] == [TODO_CREATED.name]
    todo = w.broker.appended[-1][1]
    assert todo.assignee_id == "bob" and "fay" in todo.title and "no new contract" in todo.title
    todos = (await w.call("ListTodos", api.ListTodosRequest())).todos
    assert [t.todo_id for t in todos] == ["approval-grade-req-2"]


async def test_a_stale_approval_is_not_applied(world):
    w = world
    await won_account(w, grade="C")
    stale = completion(w, "grade-req-3", audit_events.APPROVAL_STATUS_APPROVED, before="B", after="A")
    await w.outcomes.on_completed(None, stale, Position(0, 1))
    account = (await w.call("GetAccount", api.GetAccountRequest(account_id="ruijin"))).account
    assert account.grade == "C"
    assert "not applied" in w.broker.appended[-1][1].title


# --- leads ----------------------------------------------------------------------------------
async def test_lead_writes_ask_check_and_append_nothing_when_refused(world):
    w = world
    leads = LeadsApi(w.read_model, LeadStore(w.read_model), w.broker, FixedClock(NOW), 2.0, audit=w.audit)
    grpc_server._principal.set(Principal("bob", w.tenant, frozenset({"rep"})))
    grpc_server._token.set("token-of-bob")
    request = leads_api.CreateLeadRequest(lead_id="web-1", name="Dr. Wang", company="Ruijin", contact_phone="+86 21 6437 0045")
    w.audit.unavailable = True
    with pytest.raises(Aborted) as refused:
        await leads.CreateLead(request, Context())
    assert refused.value.code is grpc.StatusCode.UNAVAILABLE
    w.audit.unavailable = False
    w.audit.deny["name"] = "rep-creates-leads"
    with pytest.raises(Aborted) as denied:
        await leads.CreateLead(request, Context())
    assert denied.value.code is grpc.StatusCode.PERMISSION_DENIED and "rep-creates-leads" in denied.value.details
    assert w.broker.appended == []
    assert w.audit.asked[-1] == ("token-of-bob", "lead", "web-1", CREATED_FIELDS, {"exists": False, "owner_id": ""})

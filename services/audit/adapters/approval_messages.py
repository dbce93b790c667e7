"""Translation between the approval engine and its protobuf messages (API and topics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dealpulse.audit.v1 import audit_service_pb2 as api
from dealpulse.audit.v1 import events_pb2 as events
from kernel.topics import AUDIT_APPROVAL, AUDIT_APPROVAL_COMPLETED, AUDIT_NOTIFICATION_REQUESTED, TopicSpec
from services.audit.adapters.messages import json_text, json_value, timestamp
from services.audit.domain.approvals import ApprovalRequest, ProposedChange, RequestStatus, StepDecision, Verdict

@dataclass(frozen=True)
class ApprovalTopics:
    """Where approval events go (tests use topics of their own)."""

    events: TopicSpec = AUDIT_APPROVAL
    completed: TopicSpec = AUDIT_APPROVAL_COMPLETED
    notifications: TopicSpec = AUDIT_NOTIFICATION_REQUESTED


VERDICT_TO_PROTO = {Verdict.APPROVE: events.VERDICT_APPROVE, Verdict.REJECT: events.VERDICT_REJECT}
VERDICT_FROM_PROTO = {v: k for k, v in VERDICT_TO_PROTO.items()}
STATUS_TO_PROTO = {
    RequestStatus.PENDING: events.APPROVAL_STATUS_PENDING,
    RequestStatus.APPROVED: events.APPROVAL_STATUS_APPROVED,
    RequestStatus.REJECTED: events.APPROVAL_STATUS_REJECTED,
}


def change_from_proto(change: events.ProposedChange) -> ProposedChange:
    """Raises InvalidCommand naming `change.before_json` / `change.after_json` when not JSON."""
    return ProposedChange(
        entity_type=change.entity_type,
        entity_id=change.entity_id,
        field=change.field,
        before=json_value(change.before_json, "change.before_json"),
        after=json_value(change.after_json, "change.after_json"),
    )


def change_to_proto(change: ProposedChange) -> events.ProposedChange:
    return events.ProposedChange(
        entity_type=change.entity_type,
        entity_id=change.entity_id,
        field=change.field,
        before_json=json_text(change.before),
        after_json=json_text(change.after),
    )


def request_to_proto(request: ApprovalRequest) -> api.ApprovalRequest:
    message = api.ApprovalRequest(
        request_id=request.request_id,
        workflow=request.workflow.name,
        workflow_version=request.workflow.version,
        change=change_to_proto(request.change),
        submitted_by=request.submitted_by,
        submitted_at=timestamp(request.submitted_at),
        reason=request.reason,
        status=STATUS_TO_PROTO[request.status],
        version=request.version,
    )
    for state in request.steps:
        step = request.workflow.step(state.name)
        shown = message.steps.add(
            name=state.name,
            approver_roles=sorted(step.approver_roles),
            opened_at=timestamp(state.opened_at),
            due_at=timestamp(state.due_at),
            escalated=state.escalated,
            escalation_role=step.escalation_role,
        )
        if state.decision is not None:
            d = state.decision
            shown.decided_by = d.actor_id
            shown.verdict = VERDICT_TO_PROTO[d.verdict]
            shown.reason = d.reason
            shown.decided_at.CopyFrom(timestamp(d.at))
            shown.decided_as_roles.extend(d.actor_roles)
            shown.decision_id = d.decision_id
    return message


def _decision_record(decision: StepDecision) -> events.ApprovalDecisionRecord:
    return events.ApprovalDecisionRecord(
        step=decision.step,
        actor_id=decision.actor_id,
        actor_roles=list(decision.actor_roles),
        verdict=VERDICT_TO_PROTO[decision.verdict],
        reason=decision.reason,
        decided_at=timestamp(decision.at),
        decision_id=decision.decision_id,
    )


def completed_message(request: ApprovalRequest, *, completed_at: datetime) -> events.ApprovalCompleted:
    """Everything a consumer needs to apply (or not) the change without asking back."""
    message = events.ApprovalCompleted(
        tenant_id=request.tenant_id,
        request_id=request.request_id,
        workflow=request.workflow.name,
        workflow_version=request.workflow.version,
        change=change_to_proto(request.change),
        status=STATUS_TO_PROTO[request.status],
        submitted_by=request.submitted_by,
        reason=request.reason,
        approved_by=[d.actor_id for d in request.decisions if d.verdict is Verdict.APPROVE],
        completed_at=timestamp(completed_at),
        decisions=[_decision_record(d) for d in request.decisions],
        submitted_at=timestamp(request.submitted_at),
        submitted_by_roles=list(request.submitter_roles),
    )
    if request.status is RequestStatus.APPROVED:
        message.notify_roles.extend(request.workflow.notify_on_approval)
    rejection = next((d for d in request.decisions if d.verdict is Verdict.REJECT), None)
    if rejection is not None:
        message.rejected_by = rejection.actor_id
        message.rejected_step = rejection.step
        message.rejection_reason = rejection.reason
    return message

"""What the actions worker does when an audit approval request completes
(`audit.approval.completed.v1`, keyed by `<tenant>/<entity_id>`).

- customer_grade_change approved: append `grade_changed` to the account's topic, as the
  system, naming the request and its approvers. The account projection then publishes
  the BI event and tells the marketing contact (account_projection.py). A request whose
  `before` no longer is the account's grade (another change came first) is not applied,
  and its requester gets a to-do saying so.
- any request rejected: nothing changes; the requester gets a to-do with who rejected
  it and why (a stage-gate override stays made: the to-do tells the manager the
  director's review disagreed, so they can act on it).
- every completed request is kept as an approval fact (approver, role, decision), the
  evidence a template action of kind `approval` names by request id.

Exactly once across crashes: every event this appends carries an id derived from the
request (grade_changed, the to-do), the account projection applies a request at most
once, and the approval fact is stored last, at the completion's position, so a
redelivered completion is recognised and a crash before that point redoes the same
appends under the same ids.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.topics import ACCOUNT, TODO_CREATED
from services.actions.adapters.account_messages import account_from_record
from services.actions.adapters.messages import moment, timestamp
from services.actions.adapters.read_models import ActionsReadModel, Position

log = logging.getLogger(__name__)

GRADE_WORKFLOW = "customer_grade_change"
OVERRIDE_WORKFLOW = "stage_gate_override"
SYSTEM_ACTOR = "system"
# How long the requester has to act on a refusal before the to-do is overdue.
FOLLOW_UP = timedelta(days=1)


class UnusableCompletion(Exception):
    """A completion that cannot be applied by any version of the rules (dead-lettered)."""


def _json(text: str, field: str):
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise UnusableCompletion(f"change.{field} is not JSON: {exc}") from exc


def approval_fact(completed: audit_events.ApprovalCompleted) -> dict:
    """The request as template evidence: the decisive decision's actor and role."""
    approved = completed.status == audit_events.APPROVAL_STATUS_APPROVED
    wanted = audit_events.VERDICT_APPROVE if approved else audit_events.VERDICT_REJECT
    decisive = next((d for d in reversed(completed.decisions) if d.verdict == wanted), None)
    approver_id = decisive.actor_id if decisive else (completed.approved_by[-1] if approved and completed.approved_by else completed.rejected_by)
    return {
        "approver_role": decisive.actor_roles[0] if decisive and decisive.actor_roles else "",
        "decision": "granted" if approved else "rejected",
        "approver_id": approver_id,
    }


class ApprovalOutcomes:
    def __init__(self, read_model: ActionsReadModel, publisher: EventPublisher) -> None:
        self._read_model = read_model
        self._publisher = publisher

    async def on_completed(self, envelope: Envelope, completed: audit_events.ApprovalCompleted, at: Position) -> None:
        if not completed.request_id:
            raise UnusableCompletion("the completion names no request")
        recorded = await self._read_model.entity(completed.tenant_id, "approval", completed.request_id)
        if recorded and recorded[1].covers(at):
            return  # redelivered: already carried out
        status = completed.status
        if status not in (audit_events.APPROVAL_STATUS_APPROVED, audit_events.APPROVAL_STATUS_REJECTED):
            raise UnusableCompletion(f"request {completed.request_id} completed with status {status}")
        if status == audit_events.APPROVAL_STATUS_REJECTED:
            await self._tell_requester(completed, self._rejection_text(completed))
        elif completed.workflow == GRADE_WORKFLOW:
            await self._apply_grade(completed)
        await self._read_model.put_entity(
            completed.tenant_id, "approval", completed.request_id, approval_fact(completed), at
        )

    async def _apply_grade(self, completed: audit_events.ApprovalCompleted) -> None:
        change = completed.change
        if (change.entity_type, change.field) != ("account", "grade"):
            raise UnusableCompletion(f"{GRADE_WORKFLOW} changes account.grade, not {change.entity_type}.{change.field}")
        before, after = _json(change.before_json, "before_json"), _json(change.after_json, "after_json")
        if not isinstance(after, str) or not after:
            raise UnusableCompletion(f"request {completed.request_id} proposes no grade")
        found = await self._read_model.entity(completed.tenant_id, "account", change.entity_id)
        if found is None:
            raise UnusableCompletion(f"account {change.entity_id} of request {completed.request_id} does not exist")
        account = account_from_record(found[0])
        if completed.request_id in account.applied_approval_ids:
            return  # appended before a crash and already applied
        if (account.grade or None) != before:
            await self._tell_requester(
                completed,
                f"Your approved grade change for {account.name} ({before or '-'} → {after}) was not applied: "
                f"the grade is {account.grade or '(none)'} now. Submit a new request if it should still change.",
            )
            return
        event = events.AccountEvent(
            tenant_id=completed.tenant_id,
            account_id=account.account_id,
            actor_id=SYSTEM_ACTOR,
            occurred_at=completed.completed_at,
            grade_changed=events.AccountGradeChanged(
                from_grade=account.grade,
                to_grade=after,
                approval_request_id=completed.request_id,
                approved_by=list(completed.approved_by),
                requested_by=completed.submitted_by,
            ),
        )
        await self._publisher.publish(
            ACCOUNT,
            event,
            key=f"{completed.tenant_id}/{account.account_id}",
            tenant_id=completed.tenant_id,
            event_time=moment(completed.completed_at),
            event_id=deterministic_event_id("approved-grade-change", completed.tenant_id, completed.request_id),
        )

    @staticmethod
    def _rejection_text(completed: audit_events.ApprovalCompleted) -> str:
        change = completed.change
        what = {
            GRADE_WORKFLOW: f"grade change of account {change.entity_id} ({_json(change.before_json, 'before_json') or '-'} → "
            f"{_json(change.after_json, 'after_json')}) was rejected; the grade stays as it is",
            OVERRIDE_WORKFLOW: f"stage-gate override of opportunity {change.entity_id} ({_json(change.before_json, 'before_json')} → "
            f"{_json(change.after_json, 'after_json')}) was rejected in review",
        }.get(completed.workflow, f"{completed.workflow} request for {change.entity_type} {change.entity_id} was rejected")
        return (
            f"Your {what} by {completed.rejected_by or '-'} at step {completed.rejected_step or '-'}: "
            f"{completed.rejection_reason or 'no reason given'}"
        )

    async def _tell_requester(self, completed: audit_events.ApprovalCompleted, text: str) -> None:
        """A to-do for the requester: on their list, their live stream and the topic."""
        if not completed.submitted_by:
            log.warning("request %s/%s has no submitter to tell", completed.tenant_id, completed.request_id)
            return
        at = moment(completed.completed_at)
        todo = events.TodoCreated(
            tenant_id=completed.tenant_id,
            todo_id=f"approval-{completed.request_id}",
            assignee_id=completed.submitted_by,
            title=text[:500],
            opportunity_id=completed.change.entity_id if completed.change.entity_type == "opportunity" else "",
            due_at=timestamp(at + FOLLOW_UP),
            created_at=timestamp(at),
        )
        await self._publisher.publish(
            TODO_CREATED,
            todo,
            key=f"{todo.tenant_id}/{todo.assignee_id}",
            tenant_id=todo.tenant_id,
            event_time=at,
            event_id=todo.todo_id,
        )
        async with self._read_model.transaction() as tx:
            self._read_model.queue_message(tx, todo.tenant_id, "todos", todo.todo_id, todo)
            await tx.execute()

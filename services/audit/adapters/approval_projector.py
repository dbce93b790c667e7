"""Applies `audit.approval.v1` to the approvals projection and carries out the
engine's effects; and the sweeper that turns due step deadlines into events.

For each event, in partition order: fold it into the request with the pure engine,
publish what must be published — the audit records of the submission, each decision,
escalation and outcome (on the audit intake), the notifications, and
`ApprovalCompleted` once the request is finished — and then store the request, its
pending-set membership and its armed step deadlines in one Redis transaction. A crash
in between re-applies the event: every message published carries an id derived from
the event, so consumers (and the chain writer) see it once.

An event the engine refuses when it is applied (a command validated against a state
that another command has since changed: two approvers racing for one step) changes
nothing but the position; the losing caller reads the request back and gets its error.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from dealpulse.audit.v1 import events_pb2 as events
from kernel.clock import Clock
from kernel.deadlines import DeadlineStore, DueDeadline
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher
from services.audit.adapters.approval_messages import ApprovalTopics, change_from_proto, completed_message
from services.audit.adapters.approval_store import ApprovalStore, Position
from services.audit.adapters.intake import AuditIntake
from services.audit.adapters.messages import moment, timestamp
from services.audit.domain import approvals as engine
from services.audit.domain.approvals import (
    ApprovalRequest,
    NotifyActor,
    NotifyRole,
    Outcome,
    RequestApproved,
    RequestRejected,
    RequestStatus,
    StepCancelled,
    StepCompleted,
    StepOpened,
)
from services.audit.domain.audit_log import AuditDraft, Source
from services.audit.domain.errors import DomainError
from services.audit.domain.workflows import WorkflowCatalog

log = logging.getLogger(__name__)

APPROVAL_DEADLINES = "audit.approval"
SYSTEM_ACTOR = "system"
APPROVAL_ENTITY = "approval_request"


class UnprocessableApproval(Exception):
    """A well-formed event no shipped workflow can apply: dead-lettered."""


def deadline_member(tenant: str, request_id: str, step: str) -> str:
    return f"{tenant}/{request_id}/{step}"


@dataclass(frozen=True)
class _Fact:
    envelope: Envelope
    event: events.ApprovalEvent

    @property
    def at(self) -> datetime:
        return moment(self.event.occurred_at)


class ApprovalProjector:
    def __init__(
        self,
        store: ApprovalStore,
        catalog: WorkflowCatalog,
        deadlines: DeadlineStore,
        publisher: EventPublisher,
        intake: AuditIntake,
        topics: ApprovalTopics = ApprovalTopics(),
    ) -> None:
        self._topics = topics
        self._store = store
        self._catalog = catalog
        self._deadlines = deadlines
        self._publisher = publisher
        self._intake = intake

    async def on_event(self, envelope: Envelope, event: events.ApprovalEvent, partition: int, offset: int) -> None:
        at = Position(partition, offset)
        found = await self._store.get(event.tenant_id, event.request_id)
        if found is not None and found[1].covers(at):
            return  # redelivered after a crash: already applied
        current = found[0] if found else None
        fact = _Fact(envelope, event)
        try:
            outcome = self._fold(current, fact)
        except DomainError as exc:
            if current is None:
                raise UnprocessableApproval(f"request {event.request_id}: {exc}") from exc
            log.info("approval event %s not applied to %s: %s", envelope.event_id, event.request_id, exc)
            outcome = Outcome(current)
        await self._carry_out(fact, current, outcome, at)

    def _fold(self, current: ApprovalRequest | None, fact: _Fact) -> Outcome:
        event = fact.event
        change = event.WhichOneof("change")
        if change == "submitted":
            s = event.submitted
            if current is not None:
                return Outcome(current)  # the first submission under this id stands
            try:
                workflow = self._catalog.get(s.workflow, s.workflow_version)
            except DomainError as exc:
                raise UnprocessableApproval(str(exc)) from exc
            return engine.submit(
                workflow,
                request_id=event.request_id,
                tenant_id=event.tenant_id,
                change=change_from_proto(s.change),
                submitted_by=event.actor_id,
                submitter_roles=event.actor_roles,
                reason=s.reason,
                at=fact.at,
            )
        if current is None:
            raise UnprocessableApproval(f"{change or 'an empty change'} for a request never submitted")
        if change == "decided":
            d = event.decided
            return engine.decide(
                current,
                actor_id=event.actor_id,
                actor_roles=event.actor_roles,
                step=d.step,
                verdict=_VERDICTS.get(d.verdict, ""),
                reason=d.reason,
                decision_id=d.decision_id,
                at=fact.at,
            )
        if change == "deadline_reached":
            return engine.escalate_overdue(current, moment(event.deadline_reached.due_at))
        raise UnprocessableApproval(f"unknown change {change!r}")

    async def _carry_out(
        self, fact: _Fact, before: ApprovalRequest | None, outcome: Outcome, at: Position
    ) -> None:
        request = outcome.state
        if outcome.effects:
            await asyncio.gather(
                self._intake.submit(_audit_drafts(fact, before, request)),
                *self._notifications(fact, request, outcome),
                *self._completions(fact, request, outcome),
            )
        async with self._store.transaction() as tx:
            self._store.queue_put(tx, request, at)
            for effect in outcome.effects:
                if isinstance(effect, StepOpened):
                    due = events.ApprovalDeadlineReached(step=effect.step, due_at=timestamp(effect.due_at))
                    member = deadline_member(request.tenant_id, request.request_id, effect.step)
                    self._deadlines.queue_arm(tx, member, effect.due_at, due.SerializeToString())
                elif isinstance(effect, (StepCompleted, StepCancelled)):
                    self._deadlines.queue_disarm(tx, deadline_member(request.tenant_id, request.request_id, effect.step))
            await tx.execute()

    def _notifications(self, fact: _Fact, request: ApprovalRequest, outcome: Outcome):
        notices = [e for e in outcome.effects if isinstance(e, (NotifyRole, NotifyActor))]
        for index, notice in enumerate(notices):
            message = events.NotificationRequested(
                tenant_id=request.tenant_id,
                subject=f"{request.workflow.name} {request.request_id}",
                body=notice.message,
                entity_type=APPROVAL_ENTITY,
                entity_id=request.request_id,
                requested_at=timestamp(fact.at),
            )
            if isinstance(notice, NotifyRole):
                message.recipient_role = notice.role
            else:
                message.recipient_id = notice.actor_id
            yield self._publisher.publish(
                self._topics.notifications,
                message,
                key=request.tenant_id,
                tenant_id=request.tenant_id,
                event_time=fact.at,
                event_id=deterministic_event_id("approval-notification", fact.envelope.event_id, str(index)),
            )

    def _completions(self, fact: _Fact, request: ApprovalRequest, outcome: Outcome):
        if any(isinstance(e, (RequestApproved, RequestRejected)) for e in outcome.effects):
            yield self._publisher.publish(
                self._topics.completed,
                completed_message(request, completed_at=fact.at),
                key=f"{request.tenant_id}/{request.change.entity_id}",
                tenant_id=request.tenant_id,
                event_time=fact.at,
                event_id=deterministic_event_id("approval-completed", request.tenant_id, request.request_id),
            )


_VERDICTS = {events.VERDICT_APPROVE: "approve", events.VERDICT_REJECT: "reject"}


def _audit_drafts(fact: _Fact, before: ApprovalRequest | None, request: ApprovalRequest) -> list[AuditDraft]:
    """What the audit log records of an applied approval event: the submission, the
    decision or the escalations, and the outcome when the request finished."""
    event = fact.event

    def draft(field: str, old, new, reason: str, *, system: bool = False) -> AuditDraft:
        return AuditDraft(
            tenant_id=request.tenant_id,
            event_id=deterministic_event_id("audit-of", fact.envelope.event_id, field),
            actor_id=SYSTEM_ACTOR if system else event.actor_id,
            actor_roles=() if system else tuple(sorted(set(event.actor_roles))),
            entity_type=APPROVAL_ENTITY,
            entity_id=request.request_id,
            field=field,
            before=old,
            after=new,
            occurred_at=fact.at,
            source=Source.SYSTEM if system else Source.API,
            reason=reason,
        )

    drafts: list[AuditDraft] = []
    if before is None:
        c = request.change
        drafts.append(
            draft(
                "",
                None,
                {
                    "workflow": request.workflow.name,
                    "workflow_version": request.workflow.version,
                    "change": {
                        "entity_type": c.entity_type,
                        "entity_id": c.entity_id,
                        "field": c.field,
                        "before": c.before,
                        "after": c.after,
                    },
                },
                request.reason,
            )
        )
    else:
        new_decisions = request.decisions[len(before.decisions) :]
        for d in new_decisions:
            drafts.append(
                draft(
                    f"step_{d.step}",
                    None,
                    {"verdict": d.verdict.value, "decision_id": d.decision_id, "as_roles": list(d.actor_roles)},
                    d.reason,
                )
            )
        was_escalated = {s.name for s in before.steps if s.escalated}
        for s in request.steps:
            if s.escalated and s.name not in was_escalated:
                role = request.workflow.step(s.name).escalation_role
                drafts.append(
                    draft(f"step_{s.name}", None, {"escalated_to": role, "due_at": s.due_at.isoformat()},
                          "deadline passed", system=True)
                )
    if (before is None or before.status is not request.status) and request.status is not RequestStatus.PENDING:
        drafts.append(draft("status", "pending", request.status.value, f"request {request.status.value}", system=True))
    return drafts


class ApprovalDeadlineSweeper:
    """Turns due step deadlines into `deadline_reached` events on the request's own
    key, so the escalation is decided in stream order (a step decided meanwhile is not
    escalated). At-least-once: a claim is acknowledged once its event is on the log."""

    def __init__(
        self,
        deadlines: DeadlineStore,
        publisher: EventPublisher,
        clock: Clock,
        *,
        batch: int = 500,
        topics: ApprovalTopics = ApprovalTopics(),
    ) -> None:
        self._topics = topics
        self._deadlines = deadlines
        self._publisher = publisher
        self._clock = clock
        self._batch = batch

    async def sweep(self) -> int:
        due = await self._deadlines.claim_due(await self._clock.now(), limit=self._batch, lease_seconds=30)
        if not due:
            return 0
        results = await asyncio.gather(*(self._fire(d) for d in due), return_exceptions=True)
        fired = [d.member for d, result in zip(due, results) if not isinstance(result, BaseException)]
        for d, result in zip(due, results):
            if isinstance(result, BaseException):
                log.error("firing the approval deadline of %s failed: %r", d.member, result)
        if fired:
            await self._deadlines.acknowledge(*fired)
        return len(fired)

    async def _fire(self, deadline: DueDeadline) -> None:
        tenant, request_id, _step = deadline.member.split("/", 2)
        reached = events.ApprovalDeadlineReached.FromString(deadline.payload)
        event = events.ApprovalEvent(
            tenant_id=tenant,
            request_id=request_id,
            actor_id=SYSTEM_ACTOR,
            occurred_at=timestamp(deadline.deadline),
            deadline_reached=reached,
        )
        await self._publisher.publish(
            self._topics.events,
            event,
            key=f"{tenant}/{request_id}",
            tenant_id=tenant,
            event_time=deadline.deadline,
            event_id=deterministic_event_id("approval-deadline", deadline.member, deadline.deadline.isoformat()),
        )

"""The approvals' command side: validate a command against the projection with the pure
engine, append its event to `audit.approval.v1`, and wait until the projection shows
it, so the caller reads their own write. The worker applies the same event with the
same engine; when another command got there first (two approvers racing for a step),
the caller gets the error the engine gives against the state that won.
"""

from __future__ import annotations

import asyncio

from dealpulse.audit.v1 import events_pb2 as events
from kernel.auth import Principal
from kernel.clock import Clock
from kernel.envelope import deterministic_event_id
from kernel.kafka import EventPublisher
from services.audit.adapters.approval_messages import VERDICT_TO_PROTO, ApprovalTopics, change_to_proto
from services.audit.adapters.approval_store import ApprovalStore, Position
from services.audit.adapters.messages import timestamp
from services.audit.domain import approvals as engine
from services.audit.domain.approvals import ApprovalRequest, ProposedChange, Verdict
from services.audit.domain.errors import Conflict, Forbidden, NotFound
from services.audit.domain.roles import AUDITORS
from services.audit.domain.workflows import WorkflowCatalog


class StillProcessing(Exception):
    """The event is on the log but the projection has not shown it in time; repeating
    the command (with the same ids) is safe."""


class ApprovalCommands:
    def __init__(
        self,
        store: ApprovalStore,
        publisher: EventPublisher,
        catalog: WorkflowCatalog,
        clock: Clock,
        *,
        wait_seconds: float = 10.0,
        topics: ApprovalTopics = ApprovalTopics(),
    ) -> None:
        self._topics = topics
        self._store = store
        self._publisher = publisher
        self._catalog = catalog
        self._clock = clock
        self._wait = wait_seconds

    async def submit(
        self, principal: Principal, *, request_id: str, workflow: str, change: ProposedChange, reason: str
    ) -> ApprovalRequest:
        found = await self._store.get(principal.tenant, request_id)
        existing = found[0] if found else None
        definition = (
            existing.workflow
            if existing is not None and existing.workflow.name == workflow
            else self._catalog.latest(workflow)
        )
        at = await self._clock.now()
        outcome = engine.submit(
            definition,
            request_id=request_id,
            tenant_id=principal.tenant,
            change=change,
            submitted_by=principal.subject,
            submitter_roles=principal.roles,
            reason=reason,
            at=at,
            existing=existing,
        )
        if existing is not None:
            return outcome.state  # the same request again
        event = events.ApprovalEvent(
            submitted=events.ApprovalSubmitted(
                workflow=definition.name,
                workflow_version=definition.version,
                change=change_to_proto(change),
                reason=outcome.state.reason,
            )
        )
        stored = await self._append(principal, request_id, event, at, ("approval-submitted",))
        if (stored.submitted_by, stored.change, stored.workflow.name) != (principal.subject, change, definition.name):
            raise Conflict(f"request {request_id} was submitted meanwhile with other details")
        return stored

    async def decide(
        self,
        principal: Principal,
        *,
        request_id: str,
        step: str,
        verdict: Verdict | str,
        reason: str,
        decision_id: str,
    ) -> ApprovalRequest:
        request = await self._require(principal, request_id)
        at = await self._clock.now()
        arguments = dict(
            actor_id=principal.subject,
            actor_roles=principal.roles,
            step=step,
            verdict=verdict,
            reason=reason,
            decision_id=decision_id,
        )
        outcome = engine.decide(request, at=at, **arguments)
        if outcome.state is request:
            return request  # a retry of a decision already taken
        decided = next(d for d in outcome.state.decisions if d.decision_id == decision_id)
        event = events.ApprovalEvent(
            decided=events.ApprovalDecided(
                decision_id=decision_id, step=step, verdict=VERDICT_TO_PROTO[decided.verdict], reason=decided.reason
            )
        )
        stored = await self._append(principal, request_id, event, at, ("approval-decided", decision_id))
        if not any(d.decision_id == decision_id for d in stored.decisions):
            # Another decision won the race; say why against the state that won.
            engine.decide(stored, at=at, **arguments)
            raise Conflict(f"request {request_id} changed meanwhile; read it and decide again")
        return stored

    async def get(self, principal: Principal, request_id: str) -> ApprovalRequest:
        request = await self._require(principal, request_id)
        if not engine.may_view(request, principal.subject, principal.roles, AUDITORS):
            raise Forbidden(
                f"request {request_id} is visible to its submitter, its deciders, the roles of its steps and auditors"
            )
        return request

    async def pending_for(self, principal: Principal) -> list[ApprovalRequest]:
        return [
            request
            for request in await self._store.pending(principal.tenant)
            if engine.decidable_steps(request, principal.subject, principal.roles)
        ]

    async def _require(self, principal: Principal, request_id: str) -> ApprovalRequest:
        found = await self._store.get(principal.tenant, request_id)
        if found is None:
            raise NotFound(f"no approval request {request_id}")
        return found[0]

    async def _append(
        self, principal: Principal, request_id: str, event: events.ApprovalEvent, at, id_parts: tuple[str, ...]
    ) -> ApprovalRequest:
        event.tenant_id = principal.tenant
        event.request_id = request_id
        event.actor_id = principal.subject
        event.actor_roles.extend(sorted(principal.roles))
        event.occurred_at.CopyFrom(timestamp(at))
        _, partition, offset = await self._publisher.publish(
            self._topics.events,
            event,
            key=f"{principal.tenant}/{request_id}",
            tenant_id=principal.tenant,
            event_time=at,
            event_id=deterministic_event_id(*id_parts, principal.tenant, request_id),
        )
        return await self._visible(principal.tenant, request_id, Position(partition, offset))

    async def _visible(self, tenant: str, request_id: str, position: Position) -> ApprovalRequest:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        delay = 0.005
        while True:
            found = await self._store.get(tenant, request_id)
            if found is not None and found[1].covers(position):
                return found[0]
            if loop.time() >= deadline:
                raise StillProcessing(f"request {request_id} is accepted but not visible yet; repeat the call")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

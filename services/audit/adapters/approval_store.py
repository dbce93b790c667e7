"""The approvals projection in Redis: each request as the fold of its events on
`audit.approval.v1`, with the topic position it reflects (re-applying an event after a
crash is a no-op, and a command waits until its own event is visible), and each
tenant's set of pending requests. It can be rebuilt by replaying the topic.

A stored request names its workflow by (name, version); the definition comes from the
shipped catalogue, which keeps every published version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from services.audit.domain.approvals import (
    ApprovalRequest,
    ProposedChange,
    RequestStatus,
    StepDecision,
    StepState,
    Verdict,
)
from services.audit.domain.workflows import WorkflowCatalog

_PREFIX = "dealpulse:audit"


@dataclass(frozen=True)
class Position:
    partition: int
    offset: int

    def covers(self, other: "Position") -> bool:
        return self.partition == other.partition and self.offset >= other.offset


def request_to_dict(request: ApprovalRequest) -> dict[str, Any]:
    change = request.change
    return {
        "request_id": request.request_id,
        "tenant_id": request.tenant_id,
        "workflow": [request.workflow.name, request.workflow.version],
        "change": {
            "entity_type": change.entity_type,
            "entity_id": change.entity_id,
            "field": change.field,
            "before": change.before,
            "after": change.after,
        },
        "submitted_by": request.submitted_by,
        "submitter_roles": list(request.submitter_roles),
        "submitted_at": request.submitted_at.isoformat(),
        "reason": request.reason,
        "status": request.status.value,
        "stage_index": request.stage_index,
        "steps": [
            {
                "name": s.name,
                "opened_at": s.opened_at.isoformat(),
                "due_at": s.due_at.isoformat(),
                "escalated": s.escalated,
                "decision_id": s.decision.decision_id if s.decision else None,
            }
            for s in request.steps
        ],
        "decisions": [
            {
                "decision_id": d.decision_id,
                "step": d.step,
                "actor_id": d.actor_id,
                "verdict": d.verdict.value,
                "reason": d.reason,
                "at": d.at.isoformat(),
                "actor_roles": list(d.actor_roles),
            }
            for d in request.decisions
        ],
        "version": request.version,
    }


def request_from_dict(data: dict[str, Any], catalog: WorkflowCatalog) -> ApprovalRequest:
    decisions = tuple(
        StepDecision(
            decision_id=d["decision_id"],
            step=d["step"],
            actor_id=d["actor_id"],
            verdict=Verdict(d["verdict"]),
            reason=d["reason"],
            at=datetime.fromisoformat(d["at"]),
            actor_roles=tuple(d["actor_roles"]),
        )
        for d in data["decisions"]
    )
    by_id = {d.decision_id: d for d in decisions}
    name, version = data["workflow"]
    return ApprovalRequest(
        request_id=data["request_id"],
        tenant_id=data["tenant_id"],
        workflow=catalog.get(name, version),
        change=ProposedChange(**data["change"]),
        submitted_by=data["submitted_by"],
        submitted_at=datetime.fromisoformat(data["submitted_at"]),
        reason=data["reason"],
        status=RequestStatus(data["status"]),
        stage_index=data["stage_index"],
        steps=tuple(
            StepState(
                name=s["name"],
                opened_at=datetime.fromisoformat(s["opened_at"]),
                due_at=datetime.fromisoformat(s["due_at"]),
                escalated=s["escalated"],
                decision=by_id[s["decision_id"]] if s["decision_id"] else None,
            )
            for s in data["steps"]
        ),
        decisions=decisions,
        version=data["version"],
        submitter_roles=tuple(data["submitter_roles"]),
    )


class ApprovalStore:
    def __init__(self, redis: Redis, catalog: WorkflowCatalog) -> None:
        self._redis = redis
        self._catalog = catalog

    @property
    def redis(self) -> Redis:
        return self._redis

    @staticmethod
    def _key(tenant: str, request_id: str) -> str:
        return f"{_PREFIX}:{tenant}:approval:{request_id}"

    @staticmethod
    def _pending_key(tenant: str) -> str:
        return f"{_PREFIX}:{tenant}:approvals:pending"

    async def get(self, tenant: str, request_id: str) -> tuple[ApprovalRequest, Position] | None:
        raw = await self._redis.get(self._key(tenant, request_id))
        if raw is None:
            return None
        data = json.loads(raw)
        return request_from_dict(data["request"], self._catalog), Position(data["partition"], data["offset"])

    async def pending(self, tenant: str) -> list[ApprovalRequest]:
        ids = sorted(member.decode() for member in await self._redis.smembers(self._pending_key(tenant)))
        if not ids:
            return []
        raw = await self._redis.mget([self._key(tenant, i) for i in ids])
        return [request_from_dict(json.loads(value)["request"], self._catalog) for value in raw if value is not None]

    def queue_put(self, tx: Pipeline, request: ApprovalRequest, at: Position) -> None:
        tenant = request.tenant_id
        tx.set(
            self._key(tenant, request.request_id),
            json.dumps({"request": request_to_dict(request), "partition": at.partition, "offset": at.offset}),
        )
        if request.status is RequestStatus.PENDING:
            tx.sadd(self._pending_key(tenant), request.request_id)
        else:
            tx.srem(self._pending_key(tenant), request.request_id)

    def transaction(self) -> Pipeline:
        return self._redis.pipeline(transaction=True)

"""The actions projection in Redis: what queries read and what the stream worker
updates. Each record remembers the topic position (partition, offset) it reflects,
which makes re-applying an event after a crash a no-op and lets a command wait until
its own event is visible.

Redis runs with an append-only file fsynced on every write, so the projection
survives a Redis restart; it can also be rebuilt from the topics by replay.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from services.actions.domain.evidence import ActionKind, Evidence
from services.actions.domain.opportunity import OpportunityState, RecordedAction
from services.actions.domain.policy import DEFAULT_POLICY, ProcessPolicy

M = TypeVar("M", bound=Message)
T = TypeVar("T")


@dataclass(frozen=True)
class Position:
    """Where an event sits in its topic."""

    partition: int
    offset: int

    def covers(self, other: "Position") -> bool:
        """True when an entity at this position already reflects `other`. A key that
        moved partition (partitions were added) starts a new sequence there."""
        return self.partition == other.partition and self.offset >= other.offset


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def state_to_json(state: OpportunityState, at: Position) -> str:
    return json.dumps(
        {
            "state": {
                "tenant_id": state.tenant_id,
                "opportunity_id": state.opportunity_id,
                "account_id": state.account_id,
                "name": state.name,
                "owner_id": state.owner_id,
                "stage": state.stage,
                "amount_cents": state.amount_cents,
                "currency": state.currency,
                "opened_at": _iso(state.opened_at),
                "stage_entered_at": _iso(state.stage_entered_at),
                "last_valid_action_at": _iso(state.last_valid_action_at),
                "stall_deadline": _iso(state.stall_deadline),
                "open_alert_id": state.open_alert_id,
                "version": state.version,
            },
            "partition": at.partition,
            "offset": at.offset,
        }
    )


def state_from_json(raw: str | bytes) -> tuple[OpportunityState, Position]:
    data = json.loads(raw)
    s = data["state"]
    for name in ("opened_at", "stage_entered_at", "last_valid_action_at", "stall_deadline"):
        s[name] = _time(s[name])
    return OpportunityState(**s), Position(data["partition"], data["offset"])


def action_to_json(action: RecordedAction) -> str:
    return json.dumps(
        {
            "action_id": action.action_id,
            "kind": action.kind.value,
            "evidence": asdict(action.evidence),
            "valid": action.valid,
            "invalid_reasons": list(action.invalid_reasons),
            "occurred_at": action.occurred_at.isoformat(),
            "actor_id": action.actor_id,
        }
    )


def action_from_json(raw: str | bytes) -> RecordedAction:
    a = json.loads(raw)
    return RecordedAction(
        action_id=a["action_id"],
        kind=ActionKind(a["kind"]),
        evidence=Evidence(**a["evidence"]),
        valid=a["valid"],
        invalid_reasons=tuple(a["invalid_reasons"]),
        occurred_at=datetime.fromisoformat(a["occurred_at"]),
        actor_id=a["actor_id"],
    )


def _policy_from_json(raw: bytes | None) -> ProcessPolicy:
    if not raw:
        return DEFAULT_POLICY
    seconds = json.loads(raw)["entity"]["stall_threshold_seconds"]
    return DEFAULT_POLICY.with_stall_threshold(timedelta(seconds=seconds))


class ActionsReadModel:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(tenant: str, kind: str, entity_id: str = "") -> str:
        return f"dealpulse:actions:{tenant}:{kind}" + (f":{entity_id}" if entity_id else "")

    def _actions_key(self, tenant: str, opportunity_id: str) -> str:
        return self.key(tenant, "opportunity-actions", opportunity_id)

    # Opportunities -------------------------------------------------------------
    async def opportunity(self, tenant: str, opportunity_id: str) -> tuple[OpportunityState, Position] | None:
        raw = await self._redis.get(self.key(tenant, "opportunity", opportunity_id))
        return state_from_json(raw) if raw else None

    async def opportunity_and_policy(
        self, tenant: str, opportunity_id: str
    ) -> tuple[tuple[OpportunityState, Position] | None, ProcessPolicy]:
        """What applying an opportunity event needs, in one round trip."""
        raw_state, raw_policy = await self._redis.mget(
            self.key(tenant, "opportunity", opportunity_id), self.key(tenant, "policy", "process")
        )
        return (state_from_json(raw_state) if raw_state else None), _policy_from_json(raw_policy)

    def queue_opportunity(self, tx: Pipeline, state: OpportunityState, at: Position) -> None:
        tx.set(self.key(state.tenant_id, "opportunity", state.opportunity_id), state_to_json(state, at))

    def queue_action(self, tx: Pipeline, state: OpportunityState, action: RecordedAction) -> None:
        tx.hset(self._actions_key(state.tenant_id, state.opportunity_id), action.action_id, action_to_json(action))

    async def actions(self, tenant: str, opportunity_id: str) -> list[RecordedAction]:
        found = await self._redis.hgetall(self._actions_key(tenant, opportunity_id))
        return sorted((action_from_json(raw) for raw in found.values()), key=lambda a: (a.occurred_at, a.action_id))

    async def action(self, tenant: str, opportunity_id: str, action_id: str) -> RecordedAction | None:
        raw = await self._redis.hget(self._actions_key(tenant, opportunity_id), action_id)
        return action_from_json(raw) if raw else None

    def transaction(self) -> Pipeline:
        return self._redis.pipeline(transaction=True)

    async def wait_for_opportunity(
        self, tenant: str, opportunity_id: str, at: Position, timeout: float
    ) -> OpportunityState | None:
        """The projection once it reflects `at` (read-your-own-write), or None on timeout."""
        return await _wait(lambda: self.opportunity(tenant, opportunity_id), at, timeout)

    # Simple entities (accounts, reps, the tenant's policy) -------------------------
    async def entity(self, tenant: str, kind: str, entity_id: str) -> tuple[dict, Position] | None:
        raw = await self._redis.get(self.key(tenant, kind, entity_id))
        if not raw:
            return None
        data = json.loads(raw)
        return data["entity"], Position(data["partition"], data["offset"])

    async def put_entity(
        self, tenant: str, kind: str, entity_id: str, entity: dict, at: Position, *, keep_existing: bool = False
    ) -> bool:
        """Store unless this position is already reflected; True if stored. With
        `keep_existing`, an entity already there stays as it is and only the position
        moves on, so a caller waiting for this event still sees it processed."""
        current = await self.entity(tenant, kind, entity_id)
        if current and current[1].covers(at):
            return False
        if current and keep_existing:
            entity = current[0]
        record = {"entity": entity, "partition": at.partition, "offset": at.offset}
        await self._redis.set(self.key(tenant, kind, entity_id), json.dumps(record))
        return True

    async def wait_for_entity(self, tenant: str, kind: str, entity_id: str, at: Position, timeout: float) -> dict | None:
        return await _wait(lambda: self.entity(tenant, kind, entity_id), at, timeout)

    async def policy(self, tenant: str) -> ProcessPolicy:
        return _policy_from_json(await self._redis.get(self.key(tenant, "policy", "process")))

    # Alerts and to-dos, stored as their event payloads -----------------------------
    def queue_message(self, tx: Pipeline, tenant: str, kind: str, message_id: str, message: Message) -> None:
        tx.hset(self.key(tenant, kind), message_id, message.SerializeToString())

    async def messages(self, tenant: str, kind: str, message_type: type[M]) -> list[M]:
        found = await self._redis.hgetall(self.key(tenant, kind))
        return [message_type.FromString(raw) for raw in found.values()]


async def _wait(read: Callable[[], Awaitable[tuple[T, Position] | None]], at: Position, timeout: float) -> T | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.005
    while True:
        found = await read()
        if found is not None and found[1].covers(at):
            return found[0]
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)

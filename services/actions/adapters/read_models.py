"""The actions projection in Redis: what queries read and what the stream worker
updates. Each record remembers the topic offset it reflects, which makes re-applying
an event after a crash a no-op and lets a command wait until its own event is visible.

Redis runs with an append-only file fsynced on every write, so the projection
survives a Redis restart; it can also be rebuilt from the topics by replay.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TypeVar

from google.protobuf.message import Message
from redis.asyncio import Redis

from services.actions.domain.evidence import ActionKind
from services.actions.domain.opportunity import OpportunityState, RecordedAction
from services.actions.domain.policy import DEFAULT_POLICY, ProcessPolicy

M = TypeVar("M", bound=Message)


def _encode(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ActionKind):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__}")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def state_to_json(state: OpportunityState, offset: int) -> str:
    return json.dumps({"state": asdict(state), "offset": offset}, default=_encode)


def state_from_json(raw: str | bytes) -> tuple[OpportunityState, int]:
    data = json.loads(raw)
    s = data["state"]
    actions = tuple(
        RecordedAction(
            action_id=a["action_id"],
            kind=ActionKind(a["kind"]),
            valid=a["valid"],
            invalid_reasons=tuple(a["invalid_reasons"]),
            occurred_at=datetime.fromisoformat(a["occurred_at"]),
            actor_id=a["actor_id"],
        )
        for a in s["actions"]
    )
    for name in ("opened_at", "stage_entered_at", "last_valid_action_at", "stall_deadline"):
        s[name] = _time(s[name])
    return OpportunityState(**{**s, "actions": actions}), data["offset"]


class ActionsReadModel:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def _key(tenant: str, kind: str, entity_id: str = "") -> str:
        return f"dealpulse:actions:{tenant}:{kind}" + (f":{entity_id}" if entity_id else "")

    # Opportunities -------------------------------------------------------------
    async def opportunity(self, tenant: str, opportunity_id: str) -> tuple[OpportunityState, int] | None:
        raw = await self._redis.get(self._key(tenant, "opportunity", opportunity_id))
        return state_from_json(raw) if raw else None

    async def put_opportunity(self, state: OpportunityState, offset: int) -> None:
        await self._redis.set(self._key(state.tenant_id, "opportunity", state.opportunity_id), state_to_json(state, offset))

    async def wait_for_opportunity(
        self, tenant: str, opportunity_id: str, offset: int, timeout: float
    ) -> OpportunityState | None:
        """The projection once it reflects `offset` (read-your-own-write), or None on timeout."""
        return await self._wait(lambda: self.opportunity(tenant, opportunity_id), offset, timeout)

    # Simple entities (accounts, reps) -------------------------------------------
    async def entity(self, tenant: str, kind: str, entity_id: str) -> tuple[dict, int] | None:
        raw = await self._redis.get(self._key(tenant, kind, entity_id))
        if not raw:
            return None
        data = json.loads(raw)
        return data["entity"], data["offset"]

    async def put_entity(self, tenant: str, kind: str, entity_id: str, entity: dict, offset: int) -> bool:
        """Store unless an equal or later offset is already stored; True if stored."""
        current = await self.entity(tenant, kind, entity_id)
        if current and current[1] >= offset:
            return False
        await self._redis.set(self._key(tenant, kind, entity_id), json.dumps({"entity": entity, "offset": offset}))
        return True

    async def wait_for_entity(self, tenant: str, kind: str, entity_id: str, offset: int, timeout: float) -> dict | None:
        return await self._wait(lambda: self.entity(tenant, kind, entity_id), offset, timeout)

    # Policy --------------------------------------------------------------------
    async def policy(self, tenant: str) -> ProcessPolicy:
        found = await self.entity(tenant, "policy", "process")
        if not found:
            return DEFAULT_POLICY
        return DEFAULT_POLICY.with_stall_threshold(timedelta(seconds=found[0]["stall_threshold_seconds"]))

    # Alerts and to-dos, stored as their event payloads -----------------------------
    async def put_message(self, tenant: str, kind: str, message_id: str, message: Message) -> None:
        await self._redis.hset(self._key(tenant, kind), message_id, message.SerializeToString())

    async def messages(self, tenant: str, kind: str, message_type: type[M]) -> list[M]:
        found = await self._redis.hgetall(self._key(tenant, kind))
        return [message_type.FromString(raw) for raw in found.values()]

    @staticmethod
    async def _wait(read, offset: int, timeout: float):
        deadline = asyncio.get_running_loop().time() + timeout
        delay = 0.005
        while True:
            found = await read()
            if found is not None and found[1] >= offset:
                return found[0]
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

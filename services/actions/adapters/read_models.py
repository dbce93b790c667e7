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
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from operator import attrgetter
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from dealpulse.actions.v1 import events_pb2 as events
from kernel.redis_writes import PackedTransaction, Transaction
from services.actions.adapters.messages import policy_from_proto, policy_to_proto
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


# An opportunity's record: a JSON array of its position and then its fields in this
# order (a field added later goes last and gets a default, so older records read).
# Shorter and cheaper to write and read than an object with names: the stream worker
# reads and writes one per event. Records written as {"state": {...}, "partition",
# "offset"} by earlier versions still read.
_STATE_FIELDS = (
    "tenant_id",
    "opportunity_id",
    "account_id",
    "name",
    "owner_id",
    "stage",
    "amount_cents",
    "currency",
    "opened_at",
    "stage_entered_at",
    "last_valid_action_at",
    "stall_deadline",
    "open_alert_id",
    "alert_level",
    "template_id",
    "template_version",
    "version",
)
_STATE_TIMES = ("opened_at", "stage_entered_at", "last_valid_action_at", "stall_deadline")
_STATE_TIME_INDEXES = tuple(_STATE_FIELDS.index(name) for name in _STATE_TIMES)
_state_values = attrgetter(*_STATE_FIELDS)


def state_to_json(state: OpportunityState, at: Position) -> str:
    values = list(_state_values(state))
    for i in _STATE_TIME_INDEXES:
        values[i] = _iso(values[i])
    return json.dumps([at.partition, at.offset, *values])


def state_from_json(raw: str | bytes) -> tuple[OpportunityState, Position]:
    data = json.loads(raw)
    if isinstance(data, dict):
        fields, at = data["state"], Position(data["partition"], data["offset"])
    else:
        partition, offset, *values = data
        fields, at = dict(zip(_STATE_FIELDS, values)), Position(partition, offset)
    for name in _STATE_TIMES:
        fields[name] = _time(fields[name])
    return OpportunityState(**fields), at


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
            "template_action_id": action.template_action_id,
            "stage": action.stage,
            "submission": dict(action.submission) if action.submission is not None else None,
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
        template_action_id=a.get("template_action_id", ""),
        stage=a.get("stage", ""),
        submission=a.get("submission"),
    )


def _policy_from_json(raw: bytes | None) -> ProcessPolicy:
    """The stored snapshot (TenantPolicy in proto JSON); a record written before the
    full policy existed holds only `stall_threshold_seconds` and reads the same way."""
    if not raw:
        return DEFAULT_POLICY
    return policy_from_proto(json_format.ParseDict(json.loads(raw)["entity"], events.TenantPolicy()))


def policy_record(policy: ProcessPolicy) -> dict:
    return json_format.MessageToDict(policy_to_proto(policy), preserving_proto_field_name=True)


class ActionsReadModel:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @property
    def redis(self) -> Redis:
        return self._redis

    @staticmethod
    def key(tenant: str, kind: str, entity_id: str = "") -> str:
        return f"dealpulse:actions:{tenant}:{kind}" + (f":{entity_id}" if entity_id else "")

    def _actions_key(self, tenant: str, opportunity_id: str) -> str:
        return self.key(tenant, "opportunity-actions", opportunity_id)

    # Opportunities -------------------------------------------------------------
    async def opportunity(self, tenant: str, opportunity_id: str) -> tuple[OpportunityState, Position] | None:
        raw = await self._redis.get(self.key(tenant, "opportunity", opportunity_id))
        return state_from_json(raw) if raw else None

    async def opportunities_and_policies(
        self, opportunities: Iterable[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], tuple[OpportunityState, Position]], dict[str, ProcessPolicy]]:
        """What applying a batch of opportunity events needs, in one round trip: the
        stored (tenant, opportunity id) states and each of their tenants' policy."""
        opportunities = list(dict.fromkeys(opportunities))
        tenants = list(dict.fromkeys(tenant for tenant, _ in opportunities))
        raws = await self._redis.mget(
            [self.key(t, "opportunity", o) for t, o in opportunities] + [self.key(t, "policy", "process") for t in tenants]
        )
        states = {pair: state_from_json(raw) for pair, raw in zip(opportunities, raws) if raw}
        policies = {tenant: _policy_from_json(raw) for tenant, raw in zip(tenants, raws[len(opportunities) :])}
        return states, policies

    def queue_opportunity(self, tx: Transaction, state: OpportunityState, at: Position) -> None:
        tx.set(self.key(state.tenant_id, "opportunity", state.opportunity_id), state_to_json(state, at))

    def queue_opportunities(self, tx: Transaction, states: Iterable[tuple[OpportunityState, Position]]) -> None:
        tx.mset({self.key(s.tenant_id, "opportunity", s.opportunity_id): state_to_json(s, at) for s, at in states})

    def queue_action(self, tx: Transaction, state: OpportunityState, action: RecordedAction) -> None:
        tx.hset(self._actions_key(state.tenant_id, state.opportunity_id), action.action_id, action_to_json(action))

    async def actions(self, tenant: str, opportunity_id: str) -> list[RecordedAction]:
        found = await self._redis.hgetall(self._actions_key(tenant, opportunity_id))
        return sorted((action_from_json(raw) for raw in found.values()), key=lambda a: (a.occurred_at, a.action_id))

    async def action(self, tenant: str, opportunity_id: str, action_id: str) -> RecordedAction | None:
        raw = await self._redis.hget(self._actions_key(tenant, opportunity_id), action_id)
        return action_from_json(raw) if raw else None

    def transaction(self) -> Pipeline:
        return self._redis.pipeline(transaction=True)

    def packed_transaction(self) -> PackedTransaction:
        """For a batch's many writes: one script call instead of a MULTI's packing."""
        return PackedTransaction(self._redis)

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

    # Won customers: the closed-won opportunities of each account -----------------------
    # A set per account, written in the same transaction as the opportunity that closed
    # won (idempotent on replay). The audit policy decides account edits on it.
    def queue_customer_won(self, tx: Transaction, state: OpportunityState) -> None:
        tx.sadd(self.key(state.tenant_id, "account-won", state.account_id), state.opportunity_id)

    async def won_opportunities(self, tenant: str, account_id: str) -> tuple[str, ...]:
        members = await self._redis.smembers(self.key(tenant, "account-won", account_id))
        return tuple(sorted(m.decode() if isinstance(m, bytes) else m for m in members))

    # Tenant templates: each published version is an entity that never changes ------
    async def tenant_template_documents(self, tenant: str) -> list[str]:
        names = await self._redis.smembers(self.key(tenant, "template-index"))
        if not names:
            return []
        raws = await self._redis.mget([self.key(tenant, "template", n.decode() if isinstance(n, bytes) else n) for n in names])
        return [json.loads(raw)["entity"]["document_yaml"] for raw in raws if raw]

    async def put_template(self, tenant: str, name: str, document_yaml: str, at: Position) -> None:
        await self.put_entity(tenant, "template", name, {"document_yaml": document_yaml}, at, keep_existing=True)
        await self._redis.sadd(self.key(tenant, "template-index"), name)

    async def open_opportunities(self, tenant: str) -> list[OpportunityState]:
        """Every opportunity of the tenant (for the dwell overview), scanned by key."""
        found: list[OpportunityState] = []
        pattern = self.key(tenant, "opportunity", "*")
        async for key in self._redis.scan_iter(match=pattern, count=1000):
            raw = await self._redis.get(key)
            if raw:
                found.append(state_from_json(raw)[0])
        return found

    # Alerts and to-dos, stored as their event payloads -----------------------------
    async def message(self, tenant: str, kind: str, message_id: str, message_type: type[M]) -> M | None:
        raw = await self._redis.hget(self.key(tenant, kind), message_id)
        return message_type.FromString(raw) if raw else None

    def queue_message(self, tx: Transaction, tenant: str, kind: str, message_id: str, message: Message) -> None:
        tx.hset(self.key(tenant, kind), message_id, message.SerializeToString())

    def queue_messages(self, tx: Transaction, tenant: str, kind: str, serialized: Mapping[str, bytes]) -> None:
        tx.hset(self.key(tenant, kind), mapping=serialized)

    async def managers_and_alerts(
        self, reps: Sequence[tuple[str, str]], alerts: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], events.AlertRaised | None]]:
        """The manager of each (tenant, rep id) ("" when unknown) and each stored
        (tenant, alert id) alert (None when absent), in one round trip."""
        by_tenant: dict[str, list[str]] = {}
        for tenant, alert_id in alerts:
            by_tenant.setdefault(tenant, []).append(alert_id)
        async with self._redis.pipeline(transaction=False) as batch:
            if reps:
                batch.mget([self.key(tenant, "rep", rep_id) for tenant, rep_id in reps])
            for tenant, ids in by_tenant.items():
                batch.hmget(self.key(tenant, "alerts"), ids)
            replies = await batch.execute() if reps or by_tenant else []
        managers: dict[tuple[str, str], str] = {}
        if reps:
            raws = replies.pop(0)
            managers = {rep: json.loads(raw)["entity"].get("manager_id", "") if raw else "" for rep, raw in zip(reps, raws)}
        found = {
            (tenant, alert_id): events.AlertRaised.FromString(raw) if raw else None
            for (tenant, ids), raws in zip(by_tenant.items(), replies)
            for alert_id, raw in zip(ids, raws)
        }
        return managers, found

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

"""The queryable audit store: a Redis projection of `audit.record.v1`.

Per tenant: every record by sequence (its canonical JSON with `hash` added, see
`stored_json`; older records hold the exported JSON, which reads the same), the
sequence of every chained event id (so a redelivered entry is recognised), the chain
head, and indexes by entity, actor, field and time. Per log partition: the offset of
the last record the store reflects, which is where replay resumes. Applying a record
the store already reflects changes nothing, so the whole store can be rebuilt by
replaying the topic from the beginning.

The chain writer keeps its heads here too: they are the heads of the records it has
written *and* applied. Records it wrote but did not get to apply (a crash in between)
are read back from the topic before it writes anything else (see chainer.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timezone
from typing import NamedTuple

from redis.asyncio import Redis

from kernel.topics import AUDIT_RECORD
from services.audit.domain.errors import InvalidCommand
from services.audit.domain.audit_log import (
    AuditQuery,
    AuditRecord,
    ChainHead,
    Source,
    record_from_dict,
    record_json,
    stored_json,
)

_PREFIX = "dealpulse:audit"
SCAN_CHUNK = 500

# A batch applied in one call (a script runs atomically). ARGV[1] is {"after":
# {offset key: offset}, "records": [[key, [field, size, field, size, ...]], ...],
# "hset": {key: [field, value, ...]}, "zadd": {key: [score, member, ...]}, "set":
# {key: value}}; ARGV[2] is the records' values back to back, in the order "records"
# lists them with their sizes, so they are neither escaped into the JSON nor packed
# as one redis-py argument each. Nothing is written, and 0 returned, if a
# partition's stored offset is past its "after" (the offset before the batch's
# first record there): the batch overlaps what is stored. Arguments go in slices
# (Lua's unpack has a stack limit). The keys are the payload's, not KEYS[]: a single
# Redis, not a cluster.
_APPLY_BATCH = """
local batch = cjson.decode(ARGV[1])
for key, highest in pairs(batch.after) do
  if tonumber(redis.call('GET', key) or '-1') > highest then return 0 end
end
local values = ARGV[2]
local SLICE = 4000
local function each_slice(command, key, args)
  for i = 1, #args, SLICE do
    redis.call(command, key, unpack(args, i, math.min(i + SLICE - 1, #args)))
  end
end
local at = 1
for _, group in ipairs(batch.records) do
  local layout, args = group[2], {}
  for i = 1, #layout, 2 do
    local size = layout[i + 1]
    args[i] = layout[i]
    args[i + 1] = string.sub(values, at, at + size - 1)
    at = at + size
  end
  each_slice('HSET', group[1], args)
end
for key, args in pairs(batch.hset) do each_slice('HSET', key, args) end
for key, args in pairs(batch.zadd) do each_slice('ZADD', key, args) end
for key, value in pairs(batch.set) do redis.call('SET', key, value) end
return 1
"""


class LogPosition(NamedTuple):
    # A tuple, not a dataclass: the chain writer makes one per record.
    partition: int
    offset: int


def _ms(record: AuditRecord) -> int:
    return int(record.occurred_at.timestamp() * 1000)


class AuditStore:
    def __init__(self, redis: Redis, log_topic: str = AUDIT_RECORD.name) -> None:
        self._redis = redis
        self._log_topic = log_topic
        self._apply_batch = redis.register_script(_APPLY_BATCH)

    # --- keys -----------------------------------------------------------------------
    @staticmethod
    def _key(tenant: str, *parts: str) -> str:
        return ":".join((_PREFIX, tenant, *parts))

    @staticmethod
    def _heads_key() -> str:
        return f"{_PREFIX}:heads"

    def _offset_key(self, partition: int) -> str:
        return f"{_PREFIX}:log-offset:{self._log_topic}:{partition}"

    def records_key(self, tenant: str) -> str:
        return self._key(tenant, "records")

    # --- the chain writer's view ----------------------------------------------------
    async def heads(self, tenants: Iterable[str]) -> dict[str, ChainHead]:
        """The head of each tenant's chain (genesis for a tenant with no records)."""
        tenants = list(dict.fromkeys(tenants))
        if not tenants:
            return {}
        raw = await self._redis.hmget(self._heads_key(), tenants)
        heads = {}
        for tenant, value in zip(tenants, raw):
            if value is None:
                heads[tenant] = ChainHead.genesis(tenant)
            else:
                data = json.loads(value)
                heads[tenant] = ChainHead(tenant, data["sequence"], data["hash"])
        return heads

    async def tenants(self) -> list[bytes]:
        """Every tenant with a chain."""
        return await self._redis.hkeys(self._heads_key())

    async def head(self, tenant: str) -> ChainHead:
        return (await self.heads([tenant]))[tenant]

    async def chained(self, tenant: str, event_ids: list[str]) -> dict[str, int]:
        """Event id → sequence, for the ids already chained."""
        if not event_ids:
            return {}
        raw = await self._redis.hmget(self._key(tenant, "ids"), event_ids)
        return {event_id: int(seq) for event_id, seq in zip(event_ids, raw) if seq is not None}

    async def chained_of_tenants(self, event_ids: dict[str, list[str]]) -> dict[str, set[str]]:
        """Tenant → which of its `event_ids[tenant]` are already chained; one round trip
        however many tenants a batch holds."""
        asked = [(tenant, ids) for tenant, ids in event_ids.items() if ids]
        if not asked:
            return {tenant: set() for tenant in event_ids}
        async with self._redis.pipeline(transaction=False) as pipe:
            for tenant, ids in asked:
                pipe.hmget(self._key(tenant, "ids"), ids)
            answers = await pipe.execute()
        found = {tenant: set() for tenant in event_ids}
        for (tenant, ids), raw in zip(asked, answers):
            found[tenant] = {event_id for event_id, seq in zip(ids, raw) if seq is not None}
        return found

    async def log_offset(self, partition: int) -> int:
        """The offset of the last record of `partition` the store reflects; -1 for none."""
        raw = await self._redis.get(self._offset_key(partition))
        return int(raw) if raw is not None else -1

    async def apply(
        self, placed: list[tuple[AuditRecord, LogPosition]], canonicals: list[bytes] | None = None
    ) -> int:
        """Store records read from (or just written to) the log, in log order, in one
        atomic step; those at or before a partition's stored offset are skipped.
        `canonicals`, when given, are the records' canonical bytes from chaining them
        (the stored form is derived from them, not serialised again).
        Returns how many were applied."""
        # First as if none were stored yet, which is what the chain writer's fresh
        # records always are: one round trip. The script refuses a batch that overlaps
        # what is stored; then the stored offsets are read and the overlap skipped.
        stored_offsets: dict[int, int] | None = None
        while True:
            batch = self._batch(placed, canonicals, stored_offsets)
            if batch is None:
                return 0
            payload, values, applied = batch
            if await self._apply_batch(args=[payload, values]):
                return applied
            partitions = sorted({at.partition for _, at in placed})
            raw = await self._redis.mget([self._offset_key(p) for p in partitions])
            stored_offsets = {p: int(o) if o is not None else -1 for p, o in zip(partitions, raw)}

    def _batch(
        self,
        placed: list[tuple[AuditRecord, LogPosition]],
        canonicals: list[bytes] | None,
        stored_offsets: dict[int, int] | None,
    ) -> tuple[str, bytes, int] | None:
        """The script's arguments for the records past `stored_offsets` (all when
        None) and how many those are; None when there are none."""
        # Per records key: [field, size, ...] and the values, in the same order.
        stored: dict[str, tuple[list[str | int], list[bytes]]] = defaultdict(lambda: ([], []))
        hset: dict[str, list[str]] = defaultdict(list)
        zadd: dict[str, list[str]] = defaultdict(list)
        heads: dict[str, AuditRecord] = {}
        after: dict[int, int] = {}
        moved: dict[int, int] = {}
        for index, (record, at) in enumerate(placed):
            partition, offset = at
            if stored_offsets is not None and offset <= stored_offsets[partition]:
                continue
            if partition not in after:
                after[partition] = offset - 1
            moved[partition] = offset
            tenant, seq = record.tenant_id, str(record.sequence)
            # The keys `_key` would build, joined by hand (this runs per record).
            prefix = f"{_PREFIX}:{tenant}:"
            value = record_json(record) if canonicals is None else stored_json(record, canonicals[index])
            layout, values = stored[prefix + "records"]
            layout += (seq, len(value))
            values.append(value)
            hset[prefix + "ids"] += (record.event_id, seq)
            zadd[f"{prefix}by-entity:{record.entity_type}:{record.entity_id}"] += (seq, seq)
            zadd[f"{prefix}by-actor:{record.actor_id}"] += (seq, seq)
            zadd[f"{prefix}by-field:{record.field}"] += (seq, seq)
            zadd[prefix + "by-time"] += (str(_ms(record)), seq)
            heads[tenant] = record
        if not heads:
            return None
        for tenant, record in heads.items():
            hset[self._heads_key()] += (tenant, json.dumps({"sequence": record.sequence, "hash": record.hash}))
        # One script call, each key written once: redis-py spends far more packing and
        # parsing a command (or an argument) than Redis spends running it, and a batch
        # touches a key per entity.
        payload = {
            "after": {self._offset_key(p): highest for p, highest in after.items()},
            "records": [[key, layout] for key, (layout, _) in stored.items()],
            "hset": hset,
            "zadd": zadd,
            "set": {self._offset_key(p): str(o) for p, o in moved.items()},
        }
        values = b"".join(b"".join(values) for _, values in stored.values())
        return json.dumps(payload, ensure_ascii=False), values, sum(len(layout) // 2 for layout, _ in stored.values())

    # --- reading ----------------------------------------------------------------------
    async def record(self, tenant: str, sequence: int) -> AuditRecord | None:
        raw = await self._redis.hget(self.records_key(tenant), str(sequence))
        return _read(tenant, sequence, raw) if raw else None

    async def records_in_order(self, tenant: str, *, after: int = 0, upto: int | None = None) -> AsyncIterator[AuditRecord]:
        """Every stored record with after < sequence <= upto (the head), in sequence
        order. A sequence missing from the store is skipped here, which verify then
        reports as a gap."""
        if upto is None:
            upto = (await self.head(tenant)).sequence
        start = after + 1
        while start <= upto:
            stop = min(upto, start + SCAN_CHUNK - 1)
            raw = await self._redis.hmget(self.records_key(tenant), [str(s) for s in range(start, stop + 1)])
            for sequence, value in zip(range(start, stop + 1), raw):
                if value is not None:
                    yield _read(tenant, sequence, value)
            start = stop + 1

    async def query(self, query: AuditQuery, *, after_sequence: int = 0, limit: int) -> list[AuditRecord]:
        """Up to `limit` records matching `query` with sequence > after_sequence, in
        sequence order. Reads through the most selective index the query allows."""
        tenant = query.tenant_id
        index = None
        if query.entity_type is not None and query.entity_id is not None:
            index = self._key(tenant, "by-entity", query.entity_type, query.entity_id)
        elif query.actor_id is not None:
            index = self._key(tenant, "by-actor", query.actor_id)
        elif query.field is not None:
            index = self._key(tenant, "by-field", query.field)
        found: list[AuditRecord] = []
        if index is None and (query.since is not None or query.until is not None):
            low = int(query.since.timestamp() * 1000) if query.since else "-inf"
            high = f"({int(query.until.timestamp() * 1000)}" if query.until else "+inf"
            sequences = sorted(int(s) for s in await self._redis.zrangebyscore(self._key(tenant, "by-time"), low, high))
            sequences = [s for s in sequences if s > after_sequence]
            for start in range(0, len(sequences), SCAN_CHUNK):
                found.extend(r for r in await self._load(tenant, sequences[start : start + SCAN_CHUNK]) if query.matches(r))
                if len(found) >= limit:
                    break
            return found[:limit]
        if index is None:
            async for record in self.records_in_order(tenant, after=after_sequence):
                if query.matches(record):
                    found.append(record)
                    if len(found) >= limit:
                        break
            return found
        cursor = after_sequence
        while len(found) < limit:
            chunk = await self._redis.zrangebyscore(index, f"({cursor}", "+inf", start=0, num=SCAN_CHUNK)
            if not chunk:
                break
            sequences = [int(s) for s in chunk]
            found.extend(r for r in await self._load(tenant, sequences) if query.matches(r))
            cursor = sequences[-1]
        return found[:limit]

    async def _load(self, tenant: str, sequences: list[int]) -> list[AuditRecord]:
        if not sequences:
            return []
        raw = await self._redis.hmget(self.records_key(tenant), [str(s) for s in sequences])
        return [_read(tenant, s, value) for s, value in zip(sequences, raw) if value is not None]


def _read(tenant: str, sequence: int, raw: bytes) -> AuditRecord:
    """A stored record; one edited beyond reading (not JSON, a field of the wrong type)
    comes back as a record whose hash cannot hold, so verify reports it as edited."""
    try:
        return record_from_dict(json.loads(raw))
    except (ValueError, InvalidCommand):
        return AuditRecord(
            tenant_id=tenant,
            sequence=sequence,
            event_id="",
            actor_id="",
            actor_roles=(),
            entity_type="unreadable",
            entity_id=str(sequence),
            field="",
            before=None,
            after=None,
            occurred_at=datetime.fromtimestamp(0, timezone.utc),
            source=Source.SYSTEM,
            reason="the stored record is not a readable audit record",
            decision=None,
            prev_hash="",
            hash="",
        )

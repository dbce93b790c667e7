"""Reporting aggregates in Redis.

Per tenant:
- `opp:<id>`: the `TrackedOpportunity` with the topic position it reflects (an event at
  or before it is a redelivery and changes nothing);
- `rep-open:<rep>`: the rep's open opportunities (what the must-do ranks);
- `owners`: set of the reps that have had an open opportunity, so the morning run finds
  the reps with a must-do list without scanning the keyspace;
- `week:<week>:counts`: hash `<rep>\\x1f<metric>` -> count (expectations.COMPLIANCE_METRICS),
  one hash per tenant-week, so the report reads O(reps) fields whatever the volume;
- `week:<week>:missing:<rep>`: hash drill-down key -> the rep's missing (or late) action,
  read only for the reps a drill-down is asked for;
- `week:<week>:open:<rep>`: sorted set drill-down key -> due time (epoch seconds) of the
  rep's expectations still open: in a running week, those due after the report time are
  pending (one ZCOUNT per rep), not missing;
- `week:<week>:followup`: hash `<rep>\\x1f<metric>` -> count, by week of assignment;
- `reps`: hash rep id -> {display_name, manager_id} (from `actions.rep.v1`).

The opportunities' states and every counter a batch of events changes are written by
one server-side script call (atomic like MULTI, but one command on the wire instead of
one per counter: the aggregate rate is bound by round trips and reply parsing
otherwise), so a crash re-applies the whole batch or none of it. Within a batch,
increments of the same counter are summed and only the last write of a drill-down row
is sent. All of it is derived from the
topics: `python -m services.actions.adapters.reporting.rebuild` style replay (a new
consumer group from the earliest offset) rebuilds it exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from redis.asyncio import Redis

from services.actions.adapters.read_models import Position
from services.actions.domain.reporting.calendar import Week
from services.actions.domain.reporting.compliance import UNASSIGNED_TEAM, RepInfo
from services.actions.domain.reporting.expectations import (
    Change,
    Count,
    Expectation,
    FollowUpCount,
    Forget,
    MissingEntry,
    TrackedOpportunity,
)
from services.actions.domain.templates.model import TemplateRef

PREFIX = "dealpulse:reporting"
_SEP = "\x1f"


# Applies a batch's writes atomically: ARGV holds (op, key index, field, value) quads.
_APPLY_WRITES = """
local n = #ARGV
for i = 1, n, 4 do
  local op, key, field, value = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  if op == 'i' then redis.call('HINCRBY', key, field, value)
  elseif op == 'h' then redis.call('HSET', key, field, value)
  elseif op == 'd' then redis.call('HDEL', key, field)
  elseif op == 'z' then redis.call('ZADD', key, value, field)
  elseif op == 'r' then redis.call('ZREM', key, field)
  elseif op == 's' then redis.call('SET', key, value)
  elseif op == 'a' then redis.call('SADD', key, field)
  elseif op == 'm' then redis.call('SREM', key, field)
  else return redis.error_reply('unknown aggregate write ' .. op) end
end
return n / 4
"""


class Writes:
    """The writes of one batch, sent by `ReportingStore.apply` in one atomic call."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self._args: list[str | int | float] = []

    def add(self, op: str, key: str, field: str = "", value: str | int | float = "") -> None:
        index = self._keys.setdefault(key, len(self._keys) + 1)
        self._args += (op, index, field, value)

    def __len__(self) -> int:
        return len(self._args) // 4

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def args(self) -> list[str | int | float]:
        return self._args


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def tracked_to_json(state: TrackedOpportunity, at: Position) -> str:
    return json.dumps(
        {
            "t": state.tenant_id,
            "o": state.opportunity_id,
            "n": state.name,
            "r": state.owner_id,
            "a": state.amount_cents,
            "c": state.currency,
            "tp": [state.template.template_id, state.template.version] if state.template else None,
            "s": state.stage,
            "oa": _iso(state.opened_at),
            "se": _iso(state.stage_entered_at),
            "st": int(state.stall_threshold.total_seconds()),
            "fs": state.first_stage,
            "ad": _iso(state.advanced_at),
            "lv": _iso(state.last_valid_action_at),
            "x": [[e.action_id, e.name_en, e.name_zh, _iso(e.due), _iso(e.done_at)] for e in state.expectations],
            "sa": sorted(state.seen_actions),
            "p": [at.partition, at.offset],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def tracked_from_json(raw: str | bytes) -> tuple[TrackedOpportunity, Position]:
    d = json.loads(raw)
    state = TrackedOpportunity(
        tenant_id=d["t"],
        opportunity_id=d["o"],
        name=d["n"],
        owner_id=d["r"],
        amount_cents=d["a"],
        currency=d["c"],
        template=TemplateRef(*d["tp"]) if d["tp"] else None,
        stage=d["s"],
        opened_at=_time(d["oa"]),
        stage_entered_at=_time(d["se"]),
        stall_threshold=timedelta(seconds=d["st"]),
        first_stage=d["fs"],
        advanced_at=_time(d["ad"]),
        last_valid_action_at=_time(d["lv"]),
        expectations=tuple(Expectation(a, en, zh, _time(due), _time(done)) for a, en, zh, due, done in d["x"]),
        seen_actions=frozenset(d["sa"]),
    )
    return state, Position(*d["p"])


def _entry_to_json(e: MissingEntry) -> str:
    return json.dumps(
        [e.opportunity_id, e.opportunity_name, e.stage, e.action_id, e.action_name_en, e.action_name_zh,
         e.due.isoformat(), _iso(e.done_late_at)],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _entry_from_json(rep_id: str, week: Week, raw: bytes) -> MissingEntry:
    opp, name, stage, action, en, zh, due, late = json.loads(raw)
    return MissingEntry(rep_id, week, opp, name, stage, action, en, zh, datetime.fromisoformat(due), _time(late))


def _split_counts(raw: Mapping[bytes, bytes]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for field, value in raw.items():
        rep, _, metric = field.decode().rpartition(_SEP)
        out.setdefault(rep, {})[metric] = int(value)
    return out


class ReportingStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._apply_writes = redis.register_script(_APPLY_WRITES)

    @property
    def redis(self) -> Redis:
        return self._redis

    @staticmethod
    def key(tenant: str, *parts: str) -> str:
        return ":".join((PREFIX, tenant, *parts))

    # Opportunity states ------------------------------------------------------------
    async def tracked(self, tenant: str, opportunity_ids: Iterable[str]) -> dict[str, tuple[TrackedOpportunity, Position]]:
        ids = list(dict.fromkeys(opportunity_ids))
        if not ids:
            return {}
        raws = await self._redis.mget([self.key(tenant, "opp", i) for i in ids])
        return {i: tracked_from_json(raw) for i, raw in zip(ids, raws) if raw}

    async def open_opportunities(self, tenant: str, rep_id: str) -> list[TrackedOpportunity]:
        ids = [m.decode() for m in await self._redis.smembers(self.key(tenant, "rep-open", rep_id))]
        found = await self.tracked(tenant, ids)
        return [found[i][0] for i in sorted(found)]

    def queue_state(self, tx: Writes, state: TrackedOpportunity, at: Position, *, previous_owner: str | None) -> None:
        tenant = state.tenant_id
        tx.add("s", self.key(tenant, "opp", state.opportunity_id), value=tracked_to_json(state, at))
        if previous_owner and previous_owner != state.owner_id:
            tx.add("m", self.key(tenant, "rep-open", previous_owner), state.opportunity_id)
        open_set = self.key(tenant, "rep-open", state.owner_id)
        if state.stall_deadline is None:
            tx.add("m", open_set, state.opportunity_id)
        else:
            tx.add("a", open_set, state.opportunity_id)
            tx.add("a", self.key(tenant, "owners"), state.owner_id)

    def queue_changes(self, tx: Writes, tenant: str, changes: Iterable[Change]) -> None:
        increments: dict[tuple[str, str], int] = {}
        rows: dict[tuple[str, str], str | None] = {}
        open_due: dict[tuple[str, str], float | None] = {}
        for change in changes:
            if isinstance(change, (Count, FollowUpCount)):
                kind = "counts" if isinstance(change, Count) else "followup"
                slot = (self.key(tenant, "week", str(change.week), kind), f"{change.rep_id}{_SEP}{change.metric}")
                increments[slot] = increments.get(slot, 0) + change.amount
            elif isinstance(change, MissingEntry):
                week = str(change.week)
                rows[(self.key(tenant, "week", week, "missing", change.rep_id), change.key)] = _entry_to_json(change)
                open_due[(self.key(tenant, "week", week, "open", change.rep_id), change.key)] = (
                    change.due.timestamp() if change.done_late_at is None else None
                )
            elif isinstance(change, Forget):
                week = str(change.week)
                rows[(self.key(tenant, "week", week, "missing", change.rep_id), change.key)] = None
                open_due[(self.key(tenant, "week", week, "open", change.rep_id), change.key)] = None
        for (key, field), amount in increments.items():
            if amount:
                tx.add("i", key, field, amount)
        for (key, field), row in rows.items():
            if row is None:
                tx.add("d", key, field)
            else:
                tx.add("h", key, field, row)
        for (key, member), due in open_due.items():
            if due is None:
                tx.add("r", key, member)
            else:
                tx.add("z", key, member, due)
        tx.add("a", f"{PREFIX}:tenants", tenant)

    async def apply(self, tx: Writes) -> None:
        if len(tx):
            await self._apply_writes(keys=tx.keys, args=tx.args)

    # Reading aggregates --------------------------------------------------------------
    async def week_counts(self, tenant: str, *weeks: Week, kind: str = "counts") -> list[dict[str, dict[str, int]]]:
        async with self._redis.pipeline(transaction=False) as p:
            for week in weeks:
                p.hgetall(self.key(tenant, "week", str(week), kind))
            raws = await p.execute()
        return [_split_counts(raw) for raw in raws]

    async def pending(self, tenant: str, week: Week, rep_ids: Iterable[str], as_of: datetime) -> dict[str, int]:
        """Per rep, the open expectations of `week` due after `as_of`."""
        ids = list(rep_ids)
        async with self._redis.pipeline(transaction=False) as p:
            for rep_id in ids:
                p.zcount(self.key(tenant, "week", str(week), "open", rep_id), f"({as_of.timestamp()}", "+inf")
            found = await p.execute()
        return {rep_id: int(n) for rep_id, n in zip(ids, found) if n}

    async def drilldown(self, tenant: str, week: Week, rep_ids: Iterable[str]) -> list[MissingEntry]:
        """The missing (and late) actions of the reps given: one hash each, as big as
        one rep's week."""
        ids = list(rep_ids)
        async with self._redis.pipeline(transaction=False) as p:
            for rep_id in ids:
                p.hgetall(self.key(tenant, "week", str(week), "missing", rep_id))
            found = await p.execute()
        return [_entry_from_json(rep_id, week, value) for rep_id, raw in zip(ids, found) for value in raw.values()]

    # The rep directory ------------------------------------------------------------
    async def put_rep(self, tenant: str, rep_id: str, display_name: str, manager_id: str) -> None:
        await self._redis.hset(
            self.key(tenant, "reps"), rep_id, json.dumps({"display_name": display_name, "manager_id": manager_id})
        )
        await self._redis.sadd(f"{PREFIX}:tenants", tenant)

    async def reps(self, tenant: str) -> dict[str, RepInfo]:
        raw = await self._redis.hgetall(self.key(tenant, "reps"))
        out = {}
        for rep_id, value in raw.items():
            data = json.loads(value)
            out[rep_id.decode()] = RepInfo(rep_id.decode(), data["display_name"], data["manager_id"] or UNASSIGNED_TEAM)
        return out

    async def tenants(self) -> list[str]:
        return sorted(m.decode() for m in await self._redis.smembers(f"{PREFIX}:tenants"))

    # Scheduled runs: each (tenant, run) happens once ------------------------------------
    async def claim_run(self, tenant: str, run: str, lease_seconds: int) -> bool:
        """True for the first caller only: the marker of a scheduled run (a day's
        must-do, a week's report) about to be produced. The claim lapses after the
        lease, so a run a crashed worker left half-done is taken up again."""
        return bool(await self._redis.set(self.key(tenant, "run", run), "claimed", nx=True, ex=lease_seconds))

    async def complete_run(self, tenant: str, run: str, keep_seconds: int = 40 * 86400) -> None:
        await self._redis.set(self.key(tenant, "run", run), "done", ex=keep_seconds)

    async def release_run(self, tenant: str, run: str) -> None:
        await self._redis.delete(self.key(tenant, "run", run))

    async def put_document(self, tenant: str, kind: str, name: str, payload: bytes, *, only_new: bool = False) -> bool:
        """Store a document; with `only_new`, only if none is there (True if stored)."""
        return bool(await self._redis.set(self.key(tenant, kind, name), payload, nx=only_new or None))

    async def reps_with_open_opportunities(self, tenant: str) -> list[str]:
        owners = sorted(m.decode() for m in await self._redis.smembers(self.key(tenant, "owners")))
        async with self._redis.pipeline(transaction=False) as p:
            for rep_id in owners:
                p.scard(self.key(tenant, "rep-open", rep_id))
            sizes = await p.execute()
        return [rep_id for rep_id, size in zip(owners, sizes) if size]

    async def document(self, tenant: str, kind: str, name: str) -> bytes | None:
        return await self._redis.get(self.key(tenant, kind, name))

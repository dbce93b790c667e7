"""Reporting aggregates in Redis.

Per tenant:
- `opp:<id>`: the `TrackedOpportunity` with the topic position it reflects (an event at
  or before it is a redelivery and changes nothing);
- `rep-open:<rep>`: the rep's open opportunities (what the must-do ranks);
- `week:<week>:counts`: hash `<rep>\\x1f<metric>` -> count (expectations.COMPLIANCE_METRICS);
- `week:<week>:missing`: hash drill-down key -> the missing (or late) action;
- `week:<week>:followup`: hash `<rep>\\x1f<metric>` -> count, by week of assignment;
- `reps`: hash rep id -> {display_name, manager_id} (from `actions.rep.v1`).

An opportunity's state and every counter its event changes are written in one MULTI,
so a crash re-applies the whole event or none of it. All of it is derived from the
topics: `python -m services.actions.adapters.reporting.rebuild` style replay (a new
consumer group from the earliest offset) rebuilds it exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

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

    def queue_state(self, tx: Pipeline, state: TrackedOpportunity, at: Position, *, previous_owner: str | None) -> None:
        tenant = state.tenant_id
        tx.set(self.key(tenant, "opp", state.opportunity_id), tracked_to_json(state, at))
        if previous_owner and previous_owner != state.owner_id:
            tx.srem(self.key(tenant, "rep-open", previous_owner), state.opportunity_id)
        open_set = self.key(tenant, "rep-open", state.owner_id)
        if state.stall_deadline is None:
            tx.srem(open_set, state.opportunity_id)
        else:
            tx.sadd(open_set, state.opportunity_id)

    def queue_changes(self, tx: Pipeline, tenant: str, changes: Iterable[Change]) -> None:
        for change in changes:
            if isinstance(change, Count):
                tx.hincrby(self.key(tenant, "week", str(change.week), "counts"), f"{change.rep_id}{_SEP}{change.metric}", change.amount)
            elif isinstance(change, FollowUpCount):
                tx.hincrby(self.key(tenant, "week", str(change.week), "followup"), f"{change.rep_id}{_SEP}{change.metric}", change.amount)
            elif isinstance(change, MissingEntry):
                tx.hset(self.key(tenant, "week", str(change.week), "missing"), change.key, _entry_to_json(change))
            elif isinstance(change, Forget):
                tx.hdel(self.key(tenant, "week", str(change.week), "missing"), change.key)
        tx.sadd(f"{PREFIX}:tenants", tenant)

    def transaction(self) -> Pipeline:
        return self._redis.pipeline(transaction=True)

    # Reading aggregates --------------------------------------------------------------
    async def week_counts(self, tenant: str, *weeks: Week, kind: str = "counts") -> list[dict[str, dict[str, int]]]:
        async with self._redis.pipeline(transaction=False) as p:
            for week in weeks:
                p.hgetall(self.key(tenant, "week", str(week), kind))
            raws = await p.execute()
        return [_split_counts(raw) for raw in raws]

    async def drilldown(self, tenant: str, week: Week) -> list[MissingEntry]:
        # HSCAN in chunks: one HGETALL of a big tenant's week would block the shared
        # Redis for everyone (and outlast the client's socket timeout).
        key = self.key(tenant, "week", str(week), "missing")
        return [
            _entry_from_json(field.decode().split(_SEP, 1)[0], week, value)
            async for field, value in self._redis.hscan_iter(key, count=2000)
        ]

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
        prefix = self.key(tenant, "rep-open", "")
        return sorted([key.decode()[len(prefix):] async for key in self._redis.scan_iter(match=prefix + "*", count=1000)])

    async def document(self, tenant: str, kind: str, name: str) -> bytes | None:
        return await self._redis.get(self.key(tenant, kind, name))

"""Per-entity deadlines (stall, lead response, presales SLA, ...): a Redis sorted set
swept by a periodic task that *produces* expiry events.

Why this design (see docs/adr/0001-per-entity-timers.md): Faust's `app.timer` is
periodic, not per key, and cannot write tables, so a deadline must be turned into an
event. A sorted set gives O(log n) arming and a sweep that touches only what is due,
whatever the number of armed timers, and costs the worker no memory. Firing is
at-least-once: a member is *claimed* under a lease, the expiry event is produced, then
the claim is acknowledged; a sweeper that dies between the two leaves a lease that
expires and is claimed again. The consumer of the expiry event decides in stream order
whether the deadline still stands and de-duplicates, so the effect happens once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from redis.asyncio import Redis

from kernel.redis_writes import Transaction

_CLAIM = """
local due, claimed, payloads = KEYS[1], KEYS[2], KEYS[3]
local now, limit, lease_until = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
local function take(member, deadline)
  redis.call('ZADD', claimed, lease_until, member)
  out[#out + 1] = member
  out[#out + 1] = redis.call('HGET', payloads, member) or ''
  out[#out + 1] = deadline
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', claimed, '-inf', now, 'LIMIT', 0, limit)) do
  take(member, redis.call('HGET', payloads, member .. '\\0deadline') or now)
end
if #out / 3 < limit then
  local rows = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit - #out / 3)
  for i = 1, #rows, 2 do
    redis.call('ZREM', due, rows[i])
    redis.call('HSET', payloads, rows[i] .. '\\0deadline', rows[i + 1])
    take(rows[i], rows[i + 1])
  end
end
return out
"""

# The members come as one JSON array: packing thousands of arguments one by one costs
# redis-py more CPU than the script costs Redis.
_ACKNOWLEDGE = """
local due, claimed, payloads = KEYS[1], KEYS[2], KEYS[3]
local members = cjson.decode(ARGV[1])
for _, member in ipairs(members) do
  redis.call('ZREM', claimed, member)
  if not redis.call('ZSCORE', due, member) then
    redis.call('HDEL', payloads, member, member .. '\\0deadline')
  end
end
return #members
"""

# Members per acknowledge script call: one call blocks Redis while it runs.
_ACKNOWLEDGE_CHUNK = 1000


@dataclass(frozen=True)
class DueDeadline:
    member: str
    payload: bytes
    deadline: datetime


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class DeadlineStore:
    """One named set of deadlines, e.g. `actions.stall`. Members are entity keys."""

    def __init__(self, redis: Redis, name: str) -> None:
        self._redis = redis
        prefix = f"dealpulse:deadlines:{name}"
        self._keys = (f"{prefix}:due", f"{prefix}:claimed", f"{prefix}:payloads")
        self._claim = redis.register_script(_CLAIM)
        self._acknowledge = redis.register_script(_ACKNOWLEDGE)

    async def arm(self, member: str, deadline: datetime, payload: bytes) -> None:
        """Set (or move) the member's deadline; supersedes any firing in flight."""
        async with self._redis.pipeline(transaction=True) as tx:
            self.queue_arm(tx, member, deadline, payload)
            await tx.execute()

    async def disarm(self, member: str) -> None:
        async with self._redis.pipeline(transaction=True) as tx:
            self.queue_disarm(tx, member)
            await tx.execute()

    # Callers that change other state in the same breath (a projection) queue the
    # timer change into their own MULTI, so both land atomically with one fsync.
    def queue_arm(self, tx: Transaction, member: str, deadline: datetime, payload: bytes) -> None:
        due, claimed, payloads = self._keys
        tx.zadd(due, {member: _ms(deadline)})
        tx.hset(payloads, member, payload)
        tx.zrem(claimed, member)

    def queue_disarm(self, tx: Transaction, member: str) -> None:
        due, claimed, payloads = self._keys
        tx.zrem(due, member)
        tx.zrem(claimed, member)
        tx.hdel(payloads, member, f"{member}\0deadline")

    async def deadline_of(self, member: str) -> datetime | None:
        score = await self._redis.zscore(self._keys[0], member)
        if score is None:
            return None
        return datetime.fromtimestamp(score / 1000, timezone.utc)

    async def claim_due(self, now: datetime, *, limit: int, lease_seconds: float) -> list[DueDeadline]:
        """Deadlines at or before `now`, plus claims whose lease ran out, under a new lease."""
        raw = await self._claim(
            keys=list(self._keys), args=[_ms(now), limit, _ms(now) + int(lease_seconds * 1000)]
        )
        return [
            DueDeadline(
                member=raw[i].decode(),
                payload=bytes(raw[i + 1]),
                deadline=datetime.fromtimestamp(int(float(raw[i + 2])) / 1000, timezone.utc),
            )
            for i in range(0, len(raw), 3)
        ]

    def queue_changes(self, tx: Transaction, arms: Mapping[str, tuple[datetime, bytes]], disarms: Iterable[str]) -> None:
        """Arm and disarm many members with a handful of commands (what `queue_arm` and
        `queue_disarm` would leave, for members that appear once: a caller applying a
        batch passes each member's last change only)."""
        due, claimed, payloads = self._keys
        disarms = list(disarms)
        if disarms:
            tx.zrem(due, *disarms)
            tx.zrem(claimed, *disarms)
            tx.hdel(payloads, *disarms, *(f"{member}\0deadline" for member in disarms))
        if arms:
            tx.zadd(due, {member: _ms(deadline) for member, (deadline, _) in arms.items()})
            tx.hset(payloads, mapping={member: payload for member, (_, payload) in arms.items()})
            tx.zrem(claimed, *arms)

    async def acknowledge(self, *members: str) -> None:
        """The expiry events are safely produced: forget the claims (not newer armings)."""
        for start in range(0, len(members), _ACKNOWLEDGE_CHUNK):
            await self._acknowledge(keys=list(self._keys), args=[json.dumps(members[start : start + _ACKNOWLEDGE_CHUNK])])

    async def armed_count(self) -> int:
        return await self._redis.zcard(self._keys[0])

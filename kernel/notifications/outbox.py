"""A durable notification outbox on Redis streams.

Why Redis and not a Kafka topic: delivery needs a per-message retry schedule with
backoff and a dead-letter list, and a slow or failing robot must not hold up the
messages behind it. A Redis stream with a consumer group gives exactly that (pending
entries survive a crashed worker and are reclaimed after a lease; a sorted set holds
the retries until they are due), and Dealpulse's Redis already runs with an
append-only file fsynced on every write (deploy/local/redis.sh, deploy/k8s/README.md),
so an accepted notification survives a Redis or process restart. On Kafka each of
those would be another topic and a consumer of its own.

Guarantees:
- enqueue is idempotent on the notification id for `id_ttl` (30 days): the status key
  and the stream entry are written by one Lua script, so a notification is either
  accepted once or not at all;
- delivery is at-least-once with a narrow window: the status is checked before each
  send and set to `delivered` right after the receiver acknowledged, so only a crash
  between those two steps sends a second copy (robots offer no idempotency key);
- a retryable failure is retried with exponential backoff up to `max_attempts`, then
  dead-lettered with the reason; a permanent failure is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from kernel.notifications.channels import ChannelSenders, DeliveryError
from kernel.notifications.model import InvalidNotification, Notification

log = logging.getLogger(__name__)

GROUP = "delivery"
QUEUED, DELIVERED, DEAD = "queued", "delivered", "dead"

_ENQUEUE = """
if redis.call('SET', KEYS[1], 'queued', 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[2], '*', 'n', ARGV[1], 'attempt', '0')
  return 1
end
return 0
"""

_RELEASE_DUE_RETRIES = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local entry = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', 'n', entry['n'], 'attempt', tostring(entry['attempt']))
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""


@dataclass(frozen=True)
class DeadLetter:
    notification_id: str
    reason: str
    attempts: int


class RedisOutbox:
    def __init__(
        self,
        redis: Redis,
        name: str = "default",
        *,
        max_attempts: int = 8,
        base_delay_seconds: float = 2.0,
        max_delay_seconds: float = 600.0,
        lease_seconds: float = 60.0,
        id_ttl_seconds: int = 30 * 86400,
        consumer: str | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._redis = redis
        # One hash tag keeps every key of an outbox in one Redis Cluster slot (Lua).
        prefix = f"dealpulse:notify:{{{name}}}"
        self._status_prefix = f"{prefix}:status:"
        self._queue = f"{prefix}:queue"
        self._retry = f"{prefix}:retry"
        self._dead = f"{prefix}:dead"
        self._max_attempts = max_attempts
        self._base_delay = base_delay_seconds
        self._max_delay = max_delay_seconds
        self._lease_ms = int(lease_seconds * 1000)
        self._id_ttl = id_ttl_seconds
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._enqueue = redis.register_script(_ENQUEUE)
        self._release = redis.register_script(_RELEASE_DUE_RETRIES)
        self._group_ready = False

    async def enqueue(self, notification: Notification) -> bool:
        """Accept for delivery; False if this id was accepted before (nothing changes)."""
        accepted = await self._enqueue(
            keys=[self._status_prefix + notification.notification_id, self._queue],
            args=[notification.to_json(), self._id_ttl],
        )
        return bool(accepted)

    async def status(self, notification_id: str) -> str | None:
        raw = await self._redis.get(self._status_prefix + notification_id)
        return raw.decode() if raw else None

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        entries = await self._redis.xrange(self._dead, count=limit)
        return [
            DeadLetter(f[b"id"].decode(), f[b"reason"].decode(), int(f[b"attempts"])) for _, f in entries
        ]

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            # From the start of the stream: nothing accepted before the group existed is skipped.
            await self._redis.xgroup_create(self._queue, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def deliver_once(self, senders: ChannelSenders, *, count: int = 50, block_ms: int | None = None) -> int:
        """Deliver one batch: due retries go back on the queue, entries a dead worker left
        behind are reclaimed after the lease, then new entries are read. Returns how
        many entries were handled."""
        await self._ensure_group()
        await self._release(keys=[self._retry, self._queue], args=[time.time(), count])
        claimed = await self._redis.xautoclaim(self._queue, GROUP, self._consumer, self._lease_ms, "0-0", count=count)
        entries = list(claimed[1])
        if len(entries) < count:
            read = await self._redis.xreadgroup(
                GROUP, self._consumer, {self._queue: ">"}, count=count - len(entries), block=block_ms
            )
            for _, stream_entries in read or ():
                entries.extend(stream_entries)
        handled = 0
        for entry_id, fields in entries:
            if fields:  # a reclaimed entry deleted meanwhile comes back empty
                await self._handle(senders, entry_id, fields)
                handled += 1
        return handled

    async def _handle(self, senders: ChannelSenders, entry_id, fields) -> None:
        attempt = int(fields.get(b"attempt", b"0"))
        try:
            notification = Notification.from_json(fields[b"n"])
        except (KeyError, ValueError, TypeError, InvalidNotification) as exc:
            await self._finish(entry_id, None, DEAD, reason=f"undecodable outbox entry: {exc}", attempts=attempt)
            return
        status = await self.status(notification.notification_id)
        if status in (DELIVERED, DEAD):
            await self._finish(entry_id, None, None)
            return
        try:
            await senders.send(notification)
        except DeliveryError as exc:
            if exc.retryable and attempt + 1 < self._max_attempts:
                delay = min(self._max_delay, self._base_delay * 2**attempt)
                log.warning("delivering %s failed (attempt %d), retrying in %.1fs: %s",
                            notification.notification_id, attempt + 1, delay, exc)
                member = json.dumps({"n": fields[b"n"].decode(), "attempt": attempt + 1})
                async with self._redis.pipeline(transaction=True) as tx:
                    tx.zadd(self._retry, {member: time.time() + delay})
                    tx.xack(self._queue, GROUP, entry_id)
                    tx.xdel(self._queue, entry_id)
                    await tx.execute()
                return
            log.error("giving up on %s after %d attempt(s): %s", notification.notification_id, attempt + 1, exc)
            await self._finish(entry_id, notification.notification_id, DEAD, reason=str(exc), attempts=attempt + 1)
            return
        await self._finish(entry_id, notification.notification_id, DELIVERED)

    async def _finish(self, entry_id, notification_id: str | None, status: str | None, *, reason: str = "", attempts: int = 0) -> None:
        async with self._redis.pipeline(transaction=True) as tx:
            if status is not None and notification_id is not None:
                tx.set(self._status_prefix + notification_id, status, keepttl=True)
            if status == DEAD:
                tx.xadd(self._dead, {"id": notification_id or "?", "reason": reason, "attempts": attempts})
            tx.xack(self._queue, GROUP, entry_id)
            tx.xdel(self._queue, entry_id)
            await tx.execute()


async def run_delivery(outbox: RedisOutbox, senders: ChannelSenders, *, idle_block_ms: int = 1000) -> None:
    """Deliver until cancelled. Redis or a receiver being away is logged and retried;
    it never ends the loop."""
    delay = 0.1
    while True:
        try:
            await outbox.deliver_once(senders, block_ms=idle_block_ms)
            delay = 0.1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notification delivery failed; retrying in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

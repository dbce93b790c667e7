"""Redis storage of the tenants' webhook configurations and of the activity source ids
already published (the de-duplication memory).

Both live in per-tenant hashes, so one tenant's data never answers another's and a
tenant's memory can be inspected or dropped on its own. Redis runs with AOF
(`appendfsync always`), so a source id remembered survives a Redis restart.

Order of operations, so nothing is lost: the route publishes first and remembers the
source ids only once Kafka acknowledged them. A crash between the two re-publishes on
the vendor's retry, with the same deterministic event id, which consumers de-duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from services.gateway.webhooks.model import Activity
from services.gateway.webhooks.tenant_config import TenantWebhooks, from_json

_CONFIG_KEY = "dealpulse:gateway:webhooks:config"
_SEEN_PREFIX = "dealpulse:gateway:webhooks:seen:"


def _seen_key(tenant_id: str) -> str:
    return _SEEN_PREFIX + tenant_id


def _field(activity: Activity) -> str:
    return f"{activity.source}\x1f{activity.source_id}"


class WebhookStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def config(self, tenant_id: str) -> TenantWebhooks | None:
        raw = await self._redis.hget(_CONFIG_KEY, tenant_id)
        return from_json(raw) if raw is not None else None

    async def put_config(self, tenant_id: str, config: TenantWebhooks) -> None:
        await self._redis.hset(_CONFIG_KEY, tenant_id, config.to_json())

    async def unseen(self, activities: Sequence[Activity]) -> tuple[list[Activity], int]:
        """The activities never published before (first of each inside the batch too), and
        how many were dropped as duplicates."""
        fresh: list[Activity] = []
        by_tenant: dict[str, list[Activity]] = {}
        for activity in activities:
            by_tenant.setdefault(activity.tenant_id, []).append(activity)
        for tenant_id, group in by_tenant.items():
            known = await self._redis.hmget(_seen_key(tenant_id), [_field(a) for a in group])
            batch: set[str] = set()
            for activity, seen in zip(group, known, strict=True):
                name = _field(activity)
                if seen is None and name not in batch:
                    batch.add(name)
                    fresh.append(activity)
        return fresh, len(activities) - len(fresh)

    async def remember(self, activities: Sequence[Activity]) -> None:
        by_tenant: dict[str, dict[str, str]] = {}
        for activity in activities:
            by_tenant.setdefault(activity.tenant_id, {})[_field(activity)] = activity.occurred_at.isoformat()
        for tenant_id, fields in by_tenant.items():
            await self._redis.hset(_seen_key(tenant_id), mapping=fields)

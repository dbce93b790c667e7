"""Responses to POSTs sent with an `Idempotency-Key`, kept in Redis for 24 hours so a
client that retries (after a timeout, say) gets the first answer again instead of a
second command."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

_KEY_PREFIX = "dealpulse:gateway:idempotency:"
DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StoredResponse:
    # Hash of the request that produced the response; a key reused for a different
    # request must be refused, not answered with an unrelated response.
    request_fingerprint: str
    status_code: int
    body: Any


class IdempotencyStore:
    def __init__(self, redis: Redis, *, ttl_seconds: int = DAY_SECONDS) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def get(self, scope: tuple[str, ...], key: str) -> StoredResponse | None:
        raw = await self._redis.get(_redis_key(scope, key))
        return StoredResponse(**json.loads(raw)) if raw is not None else None

    async def put(self, scope: tuple[str, ...], key: str, response: StoredResponse) -> None:
        # NX: when two retries race, the first stored answer stays the answer.
        await self._redis.set(_redis_key(scope, key), json.dumps(asdict(response)), ex=self._ttl, nx=True)


def _redis_key(scope: tuple[str, ...], key: str) -> str:
    # Hashing a JSON list keeps tenants apart even when their ids contain separators.
    return _KEY_PREFIX + hashlib.sha256(json.dumps([*scope, key]).encode()).hexdigest()

"""The one way a Dealpulse process connects to Redis: short timeouts, and retries
with backoff across a Redis restart instead of failing the first command after it."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from kernel.config import Settings

# About 6 s of backoff (0.05 s doubling, capped at 2 s): long enough for a Redis
# restart, short enough that a caller behind the gateway's deadline gets a clear error.
_RETRY = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=7)


def connect_redis(settings: Settings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
        retry=_RETRY,
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=15,
    )

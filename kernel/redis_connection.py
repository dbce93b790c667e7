"""The one way a Dealpulse process connects to Redis: short timeouts, and retries
with backoff across a Redis restart instead of failing the first command after it."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from kernel.config import Settings

# Up to ~10 s of backoff: long enough for a Redis restart, short enough for a caller
# waiting on an HTTP request to get a clear error.
_RETRY = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=12)


def connect_redis(settings: Settings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        retry=_RETRY,
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=15,
    )

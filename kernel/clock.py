"""The clock every SLA runs on, injectable so tests move time instead of sleeping.

Production uses the system clock. Local runs and end-to-end tests may use the shared
adjustable clock: system time plus an offset kept in Redis, so the gateway, the gRPC
servers and the stream workers all see the same moved time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

from redis.asyncio import Redis

SHARED_OFFSET_KEY = "dealpulse:clock:offset-seconds"


class Clock(Protocol):
    async def now(self) -> datetime: ...


class SystemClock:
    async def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    async def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class SharedAdjustableClock:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def now(self) -> datetime:
        offset = await self._redis.get(SHARED_OFFSET_KEY)
        return datetime.now(timezone.utc) + timedelta(seconds=float(offset or 0))


async def advance_shared_clock(redis: Redis, seconds: float) -> datetime:
    """Move the shared clock forward; returns the new now. Time never goes back."""
    if seconds <= 0:
        raise ValueError("the clock only moves forward")
    offset = await redis.incrbyfloat(SHARED_OFFSET_KEY, seconds)
    return datetime.now(timezone.utc) + timedelta(seconds=float(offset))


def clock_from_settings(mode: str, redis: Redis) -> Clock:
    if mode == "system":
        return SystemClock()
    if mode == "adjustable":
        return SharedAdjustableClock(redis)
    raise ValueError(f"unknown clock mode {mode!r}: use 'system' or 'adjustable'")

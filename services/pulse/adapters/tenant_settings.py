"""Each tenant's pulse settings (time zone, thresholds), kept in Redis as JSON:

    HSET dealpulse:pulse:tenants acme '{"time_zone": "Asia/Shanghai",
        "thresholds": {"geofence_radius_m": 300, "min_on_site_minutes": 25,
                       "lateness_allowance_minutes": 10, "required_customer_fields": ["name", "address"]}}'

Durations are given in minutes (`<field>_minutes`), everything else by its
`PulseThresholds` field name; absent fields keep the article's defaults. A tenant's
settings are read when pulse first sees the tenant; a change takes effect when the
process rebuilds its state (restart or rebalance), so one process never mixes two
threshold sets inside one tenant's numbers.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.asyncio import Redis

from services.pulse.domain.book import DEFAULT_TIME_ZONE, TenantSettings
from services.pulse.domain.thresholds import DEFAULT_THRESHOLDS, InvalidThresholds, PulseThresholds

TENANTS_KEY = "dealpulse:pulse:tenants"
_DURATIONS = {f.name for f in fields(PulseThresholds) if f.type in ("timedelta", timedelta)}


def settings_from_dict(data: dict[str, Any]) -> TenantSettings:
    """Raises InvalidThresholds naming the offending setting."""
    try:
        zone = ZoneInfo(data.get("time_zone") or DEFAULT_TIME_ZONE.key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidThresholds(f"unknown time zone {data.get('time_zone')!r}") from exc
    overrides: dict[str, Any] = {}
    known = {f.name for f in fields(PulseThresholds)}
    for key, value in (data.get("thresholds") or {}).items():
        name = key.removesuffix("_minutes")
        if key.endswith("_minutes") and name in _DURATIONS:
            overrides[name] = timedelta(minutes=float(value))
        elif key in known and key not in _DURATIONS:
            overrides[key] = tuple(value) if key == "required_customer_fields" else (
                frozenset(value) if key == "working_weekdays" else value
            )
        else:
            raise InvalidThresholds(f"unknown threshold {key!r}")
    return TenantSettings(time_zone=zone, thresholds=replace(DEFAULT_THRESHOLDS, **overrides))


class TenantSettingsStore:
    """Loads settings ahead of use (async), then answers `settings_for` synchronously."""

    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis
        self._known: dict[str, TenantSettings] = {}

    async def ensure(self, tenant_ids: set[str]) -> None:
        missing = sorted(t for t in tenant_ids if t not in self._known)
        if not missing:
            return
        raw = await self._redis.hmget(TENANTS_KEY, missing) if self._redis is not None else [None] * len(missing)
        for tenant_id, value in zip(missing, raw, strict=True):
            self._known[tenant_id] = settings_from_dict(json.loads(value)) if value else TenantSettings()

    def settings_for(self, tenant_id: str) -> TenantSettings:
        return self._known.get(tenant_id) or TenantSettings()

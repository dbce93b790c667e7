"""Probes for Kubernetes: alive (the process answers) and ready (it can serve)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

router = APIRouter(tags=["probes"])

CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz", responses={503: {"description": "A dependency is down; `checks` says which."}})
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = {
        "actions": await _passes("actions", state.actions.is_serving()),
        "redis": await _passes("redis", state.redis.ping()),
        "alert_feed": state.alert_feed.started,
    }
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


async def _passes(name: str, check: Awaitable[bool]) -> bool:
    try:
        return bool(await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS))
    except Exception as exc:
        log.warning("readiness check %s failed: %r", name, exc)
        return False

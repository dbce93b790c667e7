"""Operator tools for local runs and end-to-end tests. Mounted only when the
process runs on the adjustable shared clock, which production never does."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.gateway.api.deps import Idempotency, RedisClient, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import AdvanceClockBody
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=PROBLEM_RESPONSES)


@router.post("/clock/advance", dependencies=[authorize(Operation.MOVE_CLOCK)])
async def advance_clock(body: AdvanceClockBody, redis: RedisClient, idempotency: Idempotency) -> JSONResponse:
    """Move every service's clock forward, so SLAs expire without anyone waiting."""
    # Imported here: only processes on the adjustable clock ever need it.
    from kernel.clock import advance_shared_clock

    if (replayed := await idempotency.replay()) is not None:
        return replayed
    now = await advance_shared_clock(redis, body.seconds)
    return await idempotency.respond(200, {"now": now.isoformat().replace("+00:00", "Z")})

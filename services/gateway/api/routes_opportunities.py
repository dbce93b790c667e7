"""Opportunities, their stages and the sales actions recorded against them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, Idempotency, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import ChangeStageBody, OpenOpportunityBody, RecordActionBody
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"], responses=PROBLEM_RESPONSES)
_writers = [authorize(Operation.WRITE_PIPELINE)]


@router.post("", status_code=201, dependencies=_writers)
async def open_opportunity(body: OpenOpportunityBody, actions: ActionsClient, idempotency: Idempotency) -> JSONResponse:
    """Open an opportunity in the pipeline's first stage (or the stage given)."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("OpenOpportunity", mapping.open_opportunity_request(body))
    return await idempotency.respond(201, mapping.message_json(response.opportunity))


@router.get("/{opportunity_id}")
async def get_opportunity(opportunity_id: str, actions: ActionsClient) -> dict[str, Any]:
    response = await actions.call("GetOpportunity", pb.GetOpportunityRequest(opportunity_id=opportunity_id))
    return mapping.message_json(response.opportunity)


@router.post("/{opportunity_id}/stage", dependencies=_writers)
async def change_stage(
    opportunity_id: str, body: ChangeStageBody, actions: ActionsClient, idempotency: Idempotency
) -> JSONResponse:
    """Move the opportunity to another stage; moving it where it already is is a no-op."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("ChangeStage", mapping.change_stage_request(opportunity_id, body))
    return await idempotency.respond(200, mapping.message_json(response.opportunity))


@router.post("/{opportunity_id}/actions", status_code=201, dependencies=_writers)
async def record_action(
    opportunity_id: str, body: RecordActionBody, actions: ActionsClient, idempotency: Idempotency
) -> JSONResponse:
    """Record a call, email, visit or note; the response says whether its evidence
    makes it a valid action (one that resets the stall clock)."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("RecordAction", mapping.record_action_request(opportunity_id, body))
    return await idempotency.respond(201, mapping.message_json(response))

"""Opportunities, their stages and the sales actions recorded against them."""

from __future__ import annotations

from typing import Any

import grpc
from fastapi import APIRouter
from google.rpc import error_details_pb2, status_pb2
from fastapi.responses import JSONResponse

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, Idempotency, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES, Problem
from services.gateway.api.schemas import (
    ChangeStageBody,
    HandleAlertBody,
    OpenOpportunityBody,
    RecordActionBody,
    SnoozeAlertBody,
)
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
    try:
        response = await actions.call("ChangeStage", mapping.change_stage_request(opportunity_id, body))
    except grpc.aio.AioRpcError as exc:
        missing = _missing_actions(exc)
        if not missing:
            raise
        raise Problem(409, exc.details(), errors=missing) from exc
    body = mapping.message_json(response.opportunity)
    if response.override_request_id:
        # A gate override is made at once and reviewed through the stage_gate_override approval.
        body["override_request_id"] = response.override_request_id
    return await idempotency.respond(200, body)


def _missing_actions(exc: grpc.aio.AioRpcError) -> list[dict[str, str]]:
    """A blocked gate's missing actions, from the standard rich status details."""
    if exc.code() is not grpc.StatusCode.FAILED_PRECONDITION:
        return []
    raw = dict(exc.trailing_metadata() or ()).get("grpc-status-details-bin")
    if not raw:
        return []
    status = status_pb2.Status.FromString(raw)
    missing = []
    for detail in status.details:
        failure = error_details_pb2.PreconditionFailure()
        if detail.Unpack(failure):
            missing.extend({"action_id": v.subject, "detail": v.description} for v in failure.violations)
    return missing


@router.post("/{opportunity_id}/alerts/{alert_id}/handle", dependencies=_writers)
async def handle_alert(opportunity_id: str, alert_id: str, body: HandleAlertBody, actions: ActionsClient) -> dict[str, Any]:
    """Take the open stall alert on: its escalation stops."""
    request = pb.HandleAlertRequest(opportunity_id=opportunity_id, alert_id=alert_id, note=body.note)
    return mapping.message_json((await actions.call("HandleAlert", request)).alert)


@router.post("/{opportunity_id}/alerts/{alert_id}/snooze", dependencies=_writers)
async def snooze_alert(opportunity_id: str, alert_id: str, body: SnoozeAlertBody, actions: ActionsClient) -> dict[str, Any]:
    """Snooze the open stall alert with a reason; the breaker re-arms for the snooze's end."""
    request = pb.SnoozeAlertRequest(
        opportunity_id=opportunity_id,
        alert_id=alert_id,
        reason=body.reason,
        snooze_seconds=max(1, round(body.snooze_hours * 3600)),
    )
    return mapping.message_json((await actions.call("SnoozeAlert", request)).alert)


@router.get("/{opportunity_id}/dwell")
async def stage_dwell(opportunity_id: str, actions: ActionsClient) -> dict[str, Any]:
    """Time in the current stage against the template's benchmark dwell."""
    return mapping.message_json(await actions.call("GetStageDwell", pb.GetStageDwellRequest(opportunity_id=opportunity_id)))


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

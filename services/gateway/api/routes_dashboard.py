"""The process-health dashboard (pulse): a board per team and rep, and the raw events
behind every number."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from google.protobuf.json_format import MessageToDict

from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from dealpulse.pulse.v1 import pulse_service_pb2 as pb
from services.gateway.api.deps import AuthenticatedCaller
from services.gateway.api.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/pulse", tags=["dashboard"], responses=PROBLEM_RESPONSES)

INDICATORS = {
    "lead_response": pulse_pb.INDICATOR_LEAD_RESPONSE,
    "stage_progression_completeness": pulse_pb.INDICATOR_STAGE_PROGRESSION_COMPLETENESS,
    "customer_data_completeness": pulse_pb.INDICATOR_CUSTOMER_DATA_COMPLETENESS,
    "forecast_ab_share": pulse_pb.INDICATOR_FORECAST_CREDIBILITY,
    "effective_visits_per_rep_per_day": pulse_pb.INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY,
}
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Tenant-local day; default today")]


def _json(message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


async def _call(request: Request, caller, method: str, message) -> Any:
    return await request.app.state.pulse.call(method, message, token=caller.token)


@router.get("/board")
async def health_board(
    request: Request, caller: AuthenticatedCaller, day: Day = None,
    manager_id: Annotated[str | None, Query(min_length=1, description="Only this manager's team")] = None,
) -> dict[str, Any]:
    """Team and per-rep indicators with red/yellow/green states, customers missing data,
    and events that came too late to count. Every value lists, per row, the ids of the
    events behind it; `/v1/pulse/drilldown` returns those events themselves. Reps see
    their own row; managers, directors and admins the whole tenant or one team."""
    response = await _call(request, caller, "GetHealthBoard", pb.GetHealthBoardRequest(day=day or "", manager_id=manager_id or ""))
    return _json(response)


@router.get("/drilldown")
async def drill_down(
    request: Request,
    caller: AuthenticatedCaller,
    indicator: Literal[
        "lead_response", "stage_progression_completeness", "customer_data_completeness",
        "forecast_ab_share", "effective_visits_per_rep_per_day",
    ],
    rep_id: Annotated[str | None, Query(min_length=1, description="Default: the team figure")] = None,
    day: Day = None,
) -> dict[str, Any]:
    """One number and the raw events that produced it: ids, event times, the topic,
    partition and offset they were read from, and their payloads (activities with the
    vendor's original payload as redacted evidence)."""
    message = pb.GetDrillDownRequest(indicator=INDICATORS[indicator], rep_id=rep_id or "", day=day or "")
    return _json(await _call(request, caller, "GetDrillDown", message))

"""Leads: created, assigned to reps (their first response is due within the tenant's
lead_response_limit, else an alert goes to the rep and their manager), converted to
opportunities; and the first-response time distributions per rep and team."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from dealpulse.actions.v1 import leads_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import AuthenticatedCaller, Idempotency, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import Identifier, RequestBody, Rfc3339Timestamp, Text
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1/leads", tags=["leads"], responses=PROBLEM_RESPONSES)

Optional200 = Annotated[str, Field(max_length=200)]
_STATUS = {
    "unassigned": pb.LEAD_STATUS_UNASSIGNED,
    "awaiting_response": pb.LEAD_STATUS_AWAITING_RESPONSE,
    "responded": pb.LEAD_STATUS_RESPONDED,
    "converted": pb.LEAD_STATUS_CONVERTED,
}


class CreateLeadBody(RequestBody):
    lead_id: Identifier
    name: Text
    company: Optional200 = ""
    contact_phone: Optional200 = ""
    contact_email: Optional200 = ""
    source: Optional200 = Field("", description='Where the lead came from, e.g. "web_form".')
    account_id: Identifier | None = Field(None, description="The account the lead belongs to, when known.")
    rep_id: Identifier | None = Field(None, description="Assign at once (a rep may only name themselves).")


class AssignLeadBody(RequestBody):
    rep_id: Identifier
    reason: Annotated[str, Field(max_length=500)] = ""


class ConvertLeadBody(RequestBody):
    opportunity_id: Identifier = Field(description="The opportunity the lead became (open it first).")


class CallerLeads:
    def __init__(self, request: Request, caller: AuthenticatedCaller) -> None:
        self._port = request.app.state.leads
        self._token = caller.token

    async def call(self, method: str, message):
        return await self._port.call(method, message, token=self._token)


Leads = Annotated[CallerLeads, Depends(CallerLeads)]


@router.post("", status_code=201, dependencies=[authorize(Operation.WRITE_PIPELINE)])
async def create_lead(body: CreateLeadBody, leads: Leads, idempotency: Idempotency) -> JSONResponse:
    """Create a lead, optionally assigned at once; repeating a create with the same id
    and details is a no-op."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await leads.call("CreateLead", pb.CreateLeadRequest(**body.model_dump(exclude_none=True)))
    return await idempotency.respond(201, mapping.message_json(response.lead))


@router.get("/response-stats", summary="First-response times per rep and team (a rep gets their own)")
async def response_stats(
    leads: Leads,
    from_: Annotated[Rfc3339Timestamp | None, Query(alias="from", description="assignments from (default: 30 days before `to`)")] = None,
    to: Annotated[Rfc3339Timestamp | None, Query(description="assignments until, exclusive (default: now)")] = None,
) -> dict[str, Any]:
    request = pb.GetLeadResponseStatsRequest()
    if from_ is not None:
        getattr(request, "from").FromDatetime(from_)
    if to is not None:
        request.to.FromDatetime(to)
    return mapping.message_json(await leads.call("GetLeadResponseStats", request))


@router.get("", summary="Leads, newest first (reps: their own)")
async def list_leads(
    leads: Leads,
    owner_id: Annotated[str, Query(max_length=128)] = "",
    status: Literal["", "unassigned", "awaiting_response", "responded", "converted"] = "",
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    request = pb.ListLeadsRequest(owner_id=owner_id, status=_STATUS.get(status, 0), page_size=page_size)
    response = await leads.call("ListLeads", request)
    return {"leads": [mapping.message_json(lead) for lead in response.leads]}


@router.get("/{lead_id}")
async def get_lead(lead_id: str, leads: Leads) -> dict[str, Any]:
    return mapping.message_json((await leads.call("GetLead", pb.GetLeadRequest(lead_id=lead_id))).lead)


@router.put("/{lead_id}/assignment", dependencies=[authorize(Operation.MANAGE_TEAM)])
async def assign_lead(lead_id: str, body: AssignLeadBody, leads: Leads) -> dict[str, Any]:
    """Assign or reassign the lead (managers); the rep's first response is due within
    the tenant's limit unless the lead was already answered."""
    response = await leads.call("AssignLead", pb.AssignLeadRequest(lead_id=lead_id, **body.model_dump()))
    return mapping.message_json(response.lead)


@router.post("/{lead_id}/conversion", dependencies=[authorize(Operation.WRITE_PIPELINE)])
async def convert_lead(lead_id: str, body: ConvertLeadBody, leads: Leads) -> dict[str, Any]:
    response = await leads.call("ConvertLead", pb.ConvertLeadRequest(lead_id=lead_id, **body.model_dump()))
    return mapping.message_json(response.lead)

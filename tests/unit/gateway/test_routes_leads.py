"""The /v1/leads routes against a recording LeadsService: what each request becomes,
and what is turned away before the service is called."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import grpc
import httpx
import pytest_asyncio
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from dealpulse.actions.v1 import leads_service_pb2 as pb
from services.gateway.app import create_app

from .fakes import rpc_error

_SERVICE = pb.DESCRIPTOR.services_by_name["LeadsService"]


@dataclass
class RecordingLeads:
    responses: dict[str, Message | grpc.aio.AioRpcError] = field(default_factory=dict)
    calls: list[tuple[str, Message]] = field(default_factory=list)

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        rpc = _SERVICE.methods_by_name[method]
        assert request.DESCRIPTOR is rpc.input_type
        self.calls.append((method, request))
        answer = self.responses.get(method)
        if isinstance(answer, grpc.aio.AioRpcError):
            raise answer
        return answer if answer is not None else GetMessageClass(rpc.output_type)()

    async def close(self) -> None:
        pass


@pytest_asyncio.fixture
async def leads_client(settings, actions, redis, alert_feed):
    leads = RecordingLeads()
    app = create_app(settings, actions=actions, redis=redis, alert_feed=alert_feed, leads=leads)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as http:
            yield http, leads


async def test_creating_a_lead_forwards_it_and_answers_201(leads_client, auth):
    http, leads = leads_client
    leads.responses["CreateLead"] = pb.CreateLeadResponse(
        lead=pb.Lead(lead_id="l1", name="Dr. Wang", owner_id="u-rep", status=pb.LEAD_STATUS_AWAITING_RESPONSE)
    )
    reply = await http.post(
        "/v1/leads", headers=auth("rep"), json={"lead_id": "l1", "name": "Dr. Wang", "contact_phone": "1", "rep_id": "u-rep"}
    )
    assert reply.status_code == 201, reply.text
    assert (reply.json()["status"], reply.json()["owner_id"]) == ("awaiting_response", "u-rep")
    (method, request), = leads.calls
    assert (method, request.lead_id, request.rep_id, request.account_id) == ("CreateLead", "l1", "u-rep", "")


async def test_a_malformed_lead_is_refused_without_calling_the_service(leads_client, auth):
    http, leads = leads_client
    reply = await http.post("/v1/leads", headers=auth("rep"), json={"lead_id": "l1", "name": "", "colour": "red"})
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert leads.calls == []


async def test_only_managers_assign_leads(leads_client, auth):
    http, leads = leads_client
    refused = await http.put("/v1/leads/l1/assignment", headers=auth("rep"), json={"rep_id": "bob"})
    assert refused.status_code == 403 and leads.calls == []
    reply = await http.put("/v1/leads/l1/assignment", headers=auth("manager"), json={"rep_id": "bob", "reason": "territory"})
    assert reply.status_code == 200
    assert leads.calls[0][1] == pb.AssignLeadRequest(lead_id="l1", rep_id="bob", reason="territory")


async def test_service_errors_become_problems(leads_client, auth):
    http, leads = leads_client
    leads.responses["ConvertLead"] = rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "lead l1 is not assigned")
    reply = await http.post("/v1/leads/l1/conversion", headers=auth("rep"), json={"opportunity_id": "o1"})
    assert reply.status_code == 409 and reply.json()["detail"] == "lead l1 is not assigned"


async def test_listing_filters_by_status_and_the_stats_take_a_period(leads_client, auth):
    http, leads = leads_client
    assert (await http.get("/v1/leads", headers=auth("manager"), params={"status": "responded", "page_size": 5})).status_code == 200
    assert leads.calls[-1][1] == pb.ListLeadsRequest(status=pb.LEAD_STATUS_RESPONDED, page_size=5)
    assert (await http.get("/v1/leads", headers=auth("manager"), params={"status": "lost"})).status_code == 422
    reply = await http.get(
        "/v1/leads/response-stats", headers=auth("manager"), params={"from": "2026-11-01T00:00:00+08:00", "to": "2026-11-08T00:00:00Z"}
    )
    assert reply.status_code == 200
    request = leads.calls[-1][1]
    assert getattr(request, "from").ToDatetime(tzinfo=timezone.utc) == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert request.to.ToDatetime(tzinfo=timezone.utc) == datetime(2026, 11, 8, tzinfo=timezone.utc)
    assert (await http.get("/v1/leads/response-stats", headers=auth("manager"), params={"from": "yesterday"})).status_code == 422

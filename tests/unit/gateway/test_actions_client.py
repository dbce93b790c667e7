"""The real gRPC client against an in-process stand-in server: the caller's token
travels as metadata, health is read from grpc.health.v1, a service error becomes a
problem, and one trace spans the HTTP request and the gRPC call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from dealpulse.actions.v1 import actions_service_pb2 as pb
from dealpulse.actions.v1 import actions_service_pb2_grpc, events_pb2
from kernel.telemetry import setup_tracing
from services.gateway.adapters.actions_client import SERVICE_NAME, GrpcActionsClient
from services.gateway.app import create_app

pytestmark = pytest.mark.asyncio


class StandInActions(actions_service_pb2_grpc.ActionsServiceServicer):
    def __init__(self) -> None:
        self.authorization: list[str] = []

    async def GetStallPolicy(self, request, context):
        self.authorization.append(dict(context.invocation_metadata())["authorization"])
        return pb.GetStallPolicyResponse(stall=events_pb2.StallPolicy(threshold_seconds=7200))

    async def GetOpportunity(self, request, context):
        await context.abort(grpc.StatusCode.NOT_FOUND, f"opportunity {request.opportunity_id} not found")


@pytest_asyncio.fixture
async def stand_in() -> AsyncIterator[tuple[StandInActions, str]]:
    server = grpc.aio.server()
    servicer = StandInActions()
    actions_service_pb2_grpc.add_ActionsServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(None)


@pytest_asyncio.fixture
async def gateway(settings, redis, alert_feed, stand_in) -> AsyncIterator[tuple[httpx.AsyncClient, GrpcActionsClient]]:
    actions = GrpcActionsClient(stand_in[1], deadline_seconds=5)
    app = create_app(settings, actions=actions, redis=redis, alert_feed=alert_feed)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http, actions
    await actions.close()


async def test_the_callers_token_is_forwarded_as_bearer_metadata(gateway, stand_in, token_for):
    http, _ = gateway
    token = token_for("rep")

    response = await http.get("/v1/policies/stall", headers={"Authorization": f"Bearer {token}"})

    assert response.json() == {"threshold_seconds": 7200, "threshold_hours": 2.0}
    assert stand_in[0].authorization == [f"Bearer {token}"]


async def test_a_grpc_error_from_the_service_becomes_a_problem(gateway, auth):
    http, _ = gateway
    response = await http.get("/v1/opportunities/opp-404", headers=auth("rep"))
    assert response.status_code == 404
    assert response.json()["detail"] == "opportunity opp-404 not found"


async def test_serving_follows_the_grpc_health_service(stand_in):
    actions = GrpcActionsClient(stand_in[1], deadline_seconds=5)
    nowhere = GrpcActionsClient("127.0.0.1:1", deadline_seconds=5, health_timeout_seconds=0.5)
    try:
        assert await actions.is_serving()
        assert not await nowhere.is_serving()
    finally:
        await actions.close()
        await nowhere.close()


async def test_one_trace_spans_the_http_request_and_the_grpc_call(gateway, auth):
    exporter = InMemorySpanExporter()
    setup_tracing("gateway", exporter)
    http, _ = gateway

    await http.get("/v1/policies/stall", headers=auth("rep"))

    spans = {span.kind: span for span in exporter.get_finished_spans()}
    server, client = spans[SpanKind.SERVER], spans[SpanKind.CLIENT]
    assert server.name == "GET /v1/policies/stall"
    assert client.name == "/dealpulse.actions.v1.ActionsService/GetStallPolicy"
    assert client.context.trace_id == server.context.trace_id
    assert client.parent.span_id == server.context.span_id

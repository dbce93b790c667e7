"""The dashboard routes forward the caller's token to pulse and return its answer as JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio

from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from dealpulse.pulse.v1 import pulse_service_pb2 as pb
from services.gateway.app import create_app

from .fakes import rpc_error


class FakePulse:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object, str]] = []
        self.error: grpc.aio.AioRpcError | None = None

    async def call(self, method, request, *, token):
        self.calls.append((method, request, token))
        if self.error is not None:
            raise self.error
        if method == "GetHealthBoard":
            value = pb.IndicatorValue(indicator=pulse_pb.INDICATOR_LEAD_RESPONSE, scope="team", window=request.day,
                                      state=pulse_pb.HEALTH_STATE_GREEN, threshold=0.9, value=1.0,
                                      rows=[pb.DrillDownRow(subject="lead l1", detail="answered", event_ids=["e1", "e2"])])
            return pb.GetHealthBoardResponse(tenant_id="acme", day=request.day, team=[value])
        event = pb.SourceEvent(event_id="e1", kind="activity.call", topic="gateway.activity.v1", offset=7)
        event.payload.update({"call": {"duration_seconds": 300}})
        return pb.GetDrillDownResponse(value=pb.IndicatorValue(scope=f"rep:{request.rep_id}"), events=[event])

    async def close(self) -> None:
        pass


@pytest.fixture
def pulse() -> FakePulse:
    return FakePulse()


@pytest_asyncio.fixture
async def client(settings, actions, redis, alert_feed, pulse) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, actions=actions, redis=redis, alert_feed=alert_feed, pulse=pulse)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as http:
            yield http


async def test_board_forwards_the_token_and_the_query(client, auth, pulse):
    headers = auth("manager", subject="ann")
    response = await client.get("/v1/pulse/board", params={"day": "2026-03-02", "manager_id": "ann"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["team"][0]["indicator"] == "INDICATOR_LEAD_RESPONSE"
    assert body["team"][0]["rows"][0]["event_ids"] == ["e1", "e2"]
    method, request, token = pulse.calls[0]
    assert method == "GetHealthBoard" and request.day == "2026-03-02" and request.manager_id == "ann"
    assert headers["Authorization"] == f"Bearer {token}"


async def test_drilldown_returns_the_events_with_payloads(client, auth, pulse):
    response = await client.get("/v1/pulse/drilldown", params={"indicator": "lead_response", "rep_id": "bob"},
                                headers=auth("rep", subject="bob"))
    assert response.status_code == 200, response.text
    assert response.json()["events"][0]["payload"] == {"call": {"duration_seconds": 300.0}}
    assert pulse.calls[0][1].indicator == pulse_pb.INDICATOR_LEAD_RESPONSE


async def test_bad_day_and_unknown_indicator_are_422(client, auth, pulse):
    assert (await client.get("/v1/pulse/board", params={"day": "yesterday"}, headers=auth("rep"))).status_code == 422
    assert (await client.get("/v1/pulse/drilldown", params={"indicator": "mood"}, headers=auth("rep"))).status_code == 422
    assert pulse.calls == []


async def test_without_a_token_is_401(client, pulse):
    assert (await client.get("/v1/pulse/board")).status_code == 401


async def test_pulse_errors_become_problems(client, auth, pulse):
    pulse.error = rpc_error(grpc.StatusCode.PERMISSION_DENIED, "reps see their own numbers only")
    response = await client.get("/v1/pulse/drilldown", params={"indicator": "lead_response"}, headers=auth("rep"))
    assert response.status_code == 403
    assert response.json()["detail"] == "reps see their own numbers only"

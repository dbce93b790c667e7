"""Errors are RFC 9457 problem documents, and the actions service's gRPC status
codes become the HTTP statuses a client expects."""

from __future__ import annotations

import grpc
import httpx
import pytest

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api.problems import problem_from_grpc
from services.gateway.app import create_app

from .fakes import rpc_error

GRPC_TO_HTTP = [
    (grpc.StatusCode.INVALID_ARGUMENT, 422),
    (grpc.StatusCode.UNAUTHENTICATED, 401),
    (grpc.StatusCode.PERMISSION_DENIED, 403),
    (grpc.StatusCode.NOT_FOUND, 404),
    (grpc.StatusCode.ALREADY_EXISTS, 409),
    (grpc.StatusCode.FAILED_PRECONDITION, 409),
    (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
]


@pytest.mark.parametrize(("code", "status"), GRPC_TO_HTTP, ids=[c.name for c, _ in GRPC_TO_HTTP])
def test_grpc_status_maps_to_http_status_keeping_the_services_words(code, status):
    problem = problem_from_grpc(code, "to_stage: unknown stage 'won'")
    assert problem.status == status
    assert problem.detail == "to_stage: unknown stage 'won'"


def test_a_token_the_service_refuses_still_says_how_to_authenticate():
    problem = problem_from_grpc(grpc.StatusCode.UNAUTHENTICATED, "invalid token: expired")
    assert problem.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def test_an_unexpected_grpc_status_is_a_bad_gateway_without_internals():
    problem = problem_from_grpc(grpc.StatusCode.INTERNAL, "NullPointer at projection.py:12")
    assert problem.status == 502
    assert "projection.py" not in problem.detail


@pytest.mark.asyncio
@pytest.mark.parametrize(("code", "status"), GRPC_TO_HTTP, ids=[c.name for c, _ in GRPC_TO_HTTP])
async def test_a_service_error_reaches_the_client_as_a_problem(client, actions, auth, code, status):
    actions.responses["ChangeStage"] = rpc_error(code, "opportunity is closed_won; closed opportunities do not move")

    response = await client.post("/v1/opportunities/opp-1/stage", json={"to_stage": "proposal"}, headers=auth("rep"))

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": response.reason_phrase,
        "status": status,
        "detail": "opportunity is closed_won; closed opportunities do not move",
        "instance": "/v1/opportunities/opp-1/stage",
    }


@pytest.mark.asyncio
async def test_an_unknown_route_is_a_404_problem(client):
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "instance": "/v1/nothing-here",
    }


@pytest.mark.asyncio
async def test_a_wrong_method_is_a_405_problem_that_says_what_is_allowed(client):
    response = await client.delete("/v1/accounts")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "POST"


@pytest.mark.asyncio
async def test_an_unexpected_failure_is_a_500_problem_without_internals(settings, actions, redis, alert_feed, auth):
    actions.responses["GetAccount"] = pb.GetOpportunityResponse()  # the wrong type: a bug
    app = create_app(settings, actions=actions, redis=redis, alert_feed=alert_feed)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/v1/accounts/acc-1", headers=auth("rep"))

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/v1/accounts/acc-1",
    }

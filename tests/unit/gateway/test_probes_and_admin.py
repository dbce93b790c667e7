"""Liveness, readiness, the OpenAPI document and the test-clock endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from kernel.clock import SHARED_OFFSET_KEY
from services.gateway.app import create_app

pytestmark = pytest.mark.asyncio


@dataclass
class FeedState:
    """All the readiness probe asks of the alert feed."""

    started: bool


def serve(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


async def test_healthz_needs_nothing_but_the_process(client):
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "alive"})


@pytest.mark.parametrize(
    ("actions_serving", "redis_up", "feed_started", "status"),
    [(True, True, True, 200), (False, True, True, 503), (True, False, True, 503), (True, True, False, 503)],
)
async def test_readyz_needs_the_actions_service_redis_and_the_alert_feed(
    settings, actions, redis, actions_serving, redis_up, feed_started, status
):
    actions.serving, redis.up = actions_serving, redis_up
    app = create_app(settings, actions=actions, redis=redis, alert_feed=FeedState(started=feed_started))
    async with app.router.lifespan_context(app), serve(app) as http:
        response = await http.get("/readyz")

    assert response.status_code == status
    assert response.json()["checks"] == {"actions": actions_serving, "redis": redis_up, "alert_feed": feed_started}


async def test_openapi_documents_the_bearer_scheme_on_v1_routes(client):
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT naming the caller (`sub`), their `tenant` and `roles`.",
    }
    assert spec["paths"]["/v1/opportunities"]["post"]["security"] == [{"bearerAuth": []}]
    assert "application/problem+json" in spec["paths"]["/v1/opportunities"]["post"]["responses"]["422"]["content"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


async def test_an_admin_moves_the_shared_clock(client, redis, auth):
    response = await client.post("/v1/admin/clock/advance", json={"seconds": 7200}, headers=auth("admin"))

    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["now"].replace("Z", "+00:00")).tzinfo is not None
    assert float(redis.values[SHARED_OFFSET_KEY]) == 7200


async def test_the_clock_endpoint_does_not_exist_on_the_system_clock(settings, actions, redis, alert_feed, auth):
    app = create_app(
        settings.model_copy(update={"clock": "system"}), actions=actions, redis=redis, alert_feed=alert_feed
    )
    async with app.router.lifespan_context(app), serve(app) as http:
        response = await http.post("/v1/admin/clock/advance", json={"seconds": 60}, headers=auth("admin"))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert redis.values == {}

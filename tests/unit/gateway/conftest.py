"""Fixtures for the gateway's edge tests: an app wired to fakes, and callers' tokens.
No Kafka, Redis or actions service is needed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio

from kernel.auth import mint_token
from kernel.config import Settings
from services.gateway.adapters.alert_feed import AlertFeed
from services.gateway.app import create_app

from .fakes import TENANT, FakeRedis, RecordingActions


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", jwt_secret="unit-test-secret-of-at-least-32-bytes", clock="adjustable")


@pytest.fixture
def token_for(settings: Settings) -> Callable[..., str]:
    def mint(*roles: str, subject: str = "u-rep", tenant: str = TENANT) -> str:
        return mint_token(settings, subject=subject, tenant=tenant, roles=list(roles))

    return mint


@pytest.fixture
def auth(token_for) -> Callable[..., dict[str, str]]:
    """Authorization headers for a caller with the given roles."""

    def headers(*roles: str, subject: str = "u-rep", tenant: str = TENANT) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(*roles, subject=subject, tenant=tenant)}"}

    return headers


@pytest.fixture
def claims(settings: Settings) -> Callable[..., dict]:
    """Valid claims, to be spoiled one at a time."""

    def build(**overrides) -> dict:
        now = int(time.time())
        base = {
            "sub": "u-rep",
            "tenant": TENANT,
            "roles": ["rep"],
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": now,
            "exp": now + 600,
        }
        return base | overrides

    return build


@pytest.fixture
def actions() -> RecordingActions:
    return RecordingActions()


@pytest.fixture
def redis() -> FakeRedis:
    return FakeRedis()


@pytest.fixture
def alert_feed() -> AlertFeed:
    # Never started: tests push records through `handle_record` themselves.
    return AlertFeed("unused:9092")


@pytest_asyncio.fixture
async def client(settings, actions, redis, alert_feed) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, actions=actions, redis=redis, alert_feed=alert_feed)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http

"""Every /v1 route needs a valid bearer token (401) and writes need the right role
(403); a rejected request never reaches the actions service."""

from __future__ import annotations

import time

import pytest

from . import valid_requests
from .fakes import TENANT, sign

pytestmark = pytest.mark.asyncio

ROUTE_IDS = [f"{m} {p}" for m, p, _ in valid_requests.EVERY_ROUTE]


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401 and problem["title"] == "Unauthorized"
    assert problem["type"] == "about:blank"


@pytest.mark.parametrize(("method", "path", "body"), valid_requests.EVERY_ROUTE, ids=ROUTE_IDS)
async def test_every_v1_route_requires_a_bearer_token(client, actions, method, path, body):
    response = await client.request(method, path, json=body)
    assert_unauthorized(response)
    assert response.json()["instance"] == path
    assert actions.calls == []


async def test_another_scheme_is_not_a_bearer_token(client, actions):
    response = await client.get("/v1/todos", headers={"Authorization": "Basic dTpw"})
    assert_unauthorized(response)
    assert actions.calls == []


def _spoiled_tokens(settings, claims):
    now = int(time.time())
    return {
        "malformed": "not-a-jwt",
        "wrong signature": sign(claims(), "another-secret-of-at-least-32-bytes"),
        "expired": sign(claims(iat=now - 7200, exp=now - 3600), settings.jwt_secret),
        "wrong audience": sign(claims(aud="someone-else"), settings.jwt_secret),
        "wrong issuer": sign(claims(iss="evil-idp"), settings.jwt_secret),
        "no tenant": sign({k: v for k, v in claims().items() if k != "tenant"}, settings.jwt_secret),
    }


SPOILED = ["malformed", "wrong signature", "expired", "wrong audience", "wrong issuer", "no tenant"]


@pytest.mark.parametrize("spoiled", SPOILED)
async def test_an_invalid_token_is_refused(client, actions, settings, claims, spoiled):
    token = _spoiled_tokens(settings, claims)[spoiled]
    response = await client.post(
        "/v1/accounts", json=valid_requests.ACCOUNT, headers={"Authorization": f"Bearer {token}"}
    )
    assert_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["detail"].startswith("invalid token")
    assert actions.calls == []


@pytest.mark.parametrize(("method", "path", "body"), valid_requests.WRITES_BY_ANY_SELLER)
async def test_pipeline_writes_need_a_selling_role(client, actions, auth, method, path, body):
    response = await client.request(method, path, json=body, headers=auth("presales", "finance"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "rep" in response.json()["detail"]
    assert actions.calls == []


@pytest.mark.parametrize(("method", "path", "body"), valid_requests.TEAM_WRITES)
async def test_team_writes_need_a_manager(client, actions, auth, method, path, body):
    response = await client.request(method, path, json=body, headers=auth("rep"))
    assert response.status_code == 403
    assert actions.calls == []


async def test_only_an_admin_moves_the_clock(client, redis, auth):
    response = await client.post("/v1/admin/clock/advance", json={"seconds": 60}, headers=auth("director"))
    assert response.status_code == 403
    assert redis.values == {}


async def test_authorization_is_checked_before_the_body(client, auth):
    """A caller without the role learns nothing about what a valid body looks like."""
    response = await client.post("/v1/accounts", json={"bogus": True}, headers=auth("finance"))
    assert response.status_code == 403


async def test_the_token_is_forwarded_and_the_tenant_never_comes_from_the_body(client, actions, token_for):
    token = token_for("rep", tenant=TENANT)
    headers = {"Authorization": f"Bearer {token}"}
    smuggled = await client.post("/v1/accounts", json=valid_requests.ACCOUNT | {"tenant_id": "globex"}, headers=headers)
    assert smuggled.status_code == 422
    assert actions.calls == []

    created = await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=headers)
    assert created.status_code == 201
    [call] = actions.calls
    assert call.method == "CreateAccount"
    assert call.token == token

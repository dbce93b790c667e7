"""Bad bodies are refused with 422 problem documents naming each field, before the
actions service is called."""

from __future__ import annotations

import pytest

from . import valid_requests

pytestmark = pytest.mark.asyncio

BAD_BODIES = [
    ("POST", "/v1/opportunities/opp-1/actions", valid_requests.ACTION | {"kind": "fax"}, "#/kind"),
    ("POST", "/v1/opportunities", valid_requests.OPPORTUNITY | {"amount_cents": -1}, "#/amount_cents"),
    ("POST", "/v1/opportunities", valid_requests.OPPORTUNITY | {"amount_cents": "100"}, "#/amount_cents"),
    ("POST", "/v1/opportunities", valid_requests.OPPORTUNITY | {"amount_cents": 1.5}, "#/amount_cents"),
    ("POST", "/v1/opportunities", valid_requests.OPPORTUNITY | {"currency": "yuan"}, "#/currency"),
    ("POST", "/v1/opportunities", valid_requests.OPPORTUNITY | {"priority": "high"}, "#/priority"),
    ("POST", "/v1/accounts", valid_requests.ACCOUNT | {"tenant_id": "globex"}, "#/tenant_id"),
    ("POST", "/v1/accounts", {k: v for k, v in valid_requests.ACCOUNT.items() if k != "name"}, "#/name"),
    ("POST", "/v1/accounts", valid_requests.ACCOUNT | {"account_id": ""}, "#/account_id"),
    (
        "POST",
        "/v1/opportunities/opp-1/actions",
        valid_requests.ACTION | {"occurred_at": "2024-05-01T10:00:00"},
        "#/occurred_at",
    ),
    (
        "POST",
        "/v1/opportunities/opp-1/actions",
        valid_requests.ACTION | {"call_duration_seconds": -5},
        "#/call_duration_seconds",
    ),
    ("PUT", "/v1/policies/stall", {"threshold_hours": 0}, "#/threshold_hours"),
    ("PUT", "/v1/policies/stall", {"threshold_hours": -48}, "#/threshold_hours"),
    ("POST", "/v1/admin/clock/advance", {"seconds": 0}, "#/seconds"),
]


@pytest.mark.parametrize(("method", "path", "body", "pointer"), BAD_BODIES, ids=[b[3] + " " + b[1] for b in BAD_BODIES])
async def test_a_bad_body_is_a_422_problem_naming_the_field(client, actions, redis, auth, method, path, body, pointer):
    response = await client.request(method, path, json=body, headers=auth("admin"))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["instance"] == path
    assert pointer in [error["pointer"] for error in problem["errors"]]
    assert all(error["detail"] for error in problem["errors"])
    assert actions.calls == []
    assert redis.values == {}


async def test_a_body_that_is_not_json_is_a_422_problem(client, actions, auth):
    response = await client.post(
        "/v1/accounts", content=b"{not json", headers=auth("rep") | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert actions.calls == []


async def test_a_bad_idempotency_key_is_a_422_problem_naming_the_header(client, actions, auth):
    response = await client.post(
        "/v1/accounts", json=valid_requests.ACCOUNT, headers=auth("rep") | {"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["header"] == "idempotency-key"
    assert actions.calls == []


async def test_the_optional_fields_of_an_action_are_accepted(client, actions, auth):
    body = valid_requests.ACTION | {"occurred_at": "2024-05-01T10:00:00+08:00", "note": "asked about lead times"}
    response = await client.post("/v1/opportunities/opp-1/actions", json=body, headers=auth("rep"))
    assert response.status_code == 201
    [call] = actions.calls
    assert call.request.occurred_at.ToJsonString() == "2024-05-01T02:00:00Z"

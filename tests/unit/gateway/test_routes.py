"""What a valid request turns into: the right RPC with the right fields, the reply
rendered as JSON, and POSTs with an Idempotency-Key answered once."""

from __future__ import annotations

import grpc
import pytest

from dealpulse.actions.v1 import actions_service_pb2 as pb
from dealpulse.actions.v1 import events_pb2

from . import valid_requests
from .fakes import rpc_error

pytestmark = pytest.mark.asyncio


async def test_open_opportunity_forwards_the_body_and_renders_the_reply(client, actions, auth):
    actions.responses["OpenOpportunity"] = pb.OpenOpportunityResponse(
        opportunity=pb.Opportunity(opportunity_id="opp-1", stage="lead", amount_cents=12_500_000, currency="CNY")
    )

    response = await client.post("/v1/opportunities", json=valid_requests.OPPORTUNITY, headers=auth("rep"))

    assert response.status_code == 201
    assert response.json()["stage"] == "lead"
    assert response.json()["amount_cents"] == 12_500_000
    [call] = actions.calls
    assert call.request == pb.OpenOpportunityRequest(**valid_requests.OPPORTUNITY)


async def test_record_action_renders_the_verdict(client, actions, auth):
    actions.responses["RecordAction"] = pb.RecordActionResponse(
        action=pb.Action(
            action_id="act-1", kind=events_pb2.ACTION_KIND_CALL, valid=False, invalid_reasons=["too short"]
        )
    )

    response = await client.post("/v1/opportunities/opp-1/actions", json=valid_requests.ACTION, headers=auth("rep"))

    assert response.status_code == 201
    assert response.json()["action"]["kind"] == "call"
    assert response.json()["action"]["invalid_reasons"] == ["too short"]
    assert actions.calls[0].request.opportunity_id == "opp-1"


async def test_path_ids_are_passed_to_the_service(client, actions, auth):
    await client.get("/v1/accounts/acc-9", headers=auth("finance"))
    await client.put("/v1/reps/u-7", json={"display_name": "Han Meimei"}, headers=auth("manager"))
    await client.post("/v1/opportunities/opp-3/stage", json={"to_stage": "proposal"}, headers=auth("rep"))

    assert [c.request for c in actions.calls] == [
        pb.GetAccountRequest(account_id="acc-9"),
        pb.RegisterRepRequest(rep_id="u-7", display_name="Han Meimei"),
        pb.ChangeStageRequest(opportunity_id="opp-3", to_stage="proposal"),
    ]


async def test_a_retried_post_with_the_same_key_is_answered_once(client, actions, auth):
    actions.responses["CreateAccount"] = pb.CreateAccountResponse(account=pb.Account(account_id="acc-1"))
    headers = auth("rep") | {"Idempotency-Key": "retry-42"}

    first = await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=headers)
    retried = await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=headers)

    assert len(actions.calls) == 1
    assert first.status_code == retried.status_code == 201
    assert retried.json() == first.json()
    assert {k: first.json()[k] for k in ("account_id", "name", "industry", "owner_id")} == {
        "account_id": "acc-1", "name": "", "industry": "", "owner_id": ""
    }
    assert retried.headers["idempotent-replayed"] == "true"


async def test_a_key_reused_for_another_request_is_refused(client, actions, auth):
    headers = auth("rep") | {"Idempotency-Key": "retry-42"}
    await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=headers)

    other = await client.post("/v1/accounts", json=valid_requests.ACCOUNT | {"name": "Other"}, headers=headers)

    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert len(actions.calls) == 1


async def test_idempotency_keys_belong_to_one_caller(client, actions, auth):
    await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=auth("rep") | {"Idempotency-Key": "k"})
    await client.post(
        "/v1/accounts", json=valid_requests.ACCOUNT, headers=auth("rep", tenant="globex") | {"Idempotency-Key": "k"}
    )
    await client.post(
        "/v1/accounts", json=valid_requests.ACCOUNT, headers=auth("rep", subject="u-peer") | {"Idempotency-Key": "k"}
    )
    assert len(actions.calls) == 3


async def test_failures_are_not_remembered(client, actions, auth):
    actions.responses["CreateAccount"] = rpc_error(grpc.StatusCode.UNAVAILABLE, "projection catching up")
    headers = auth("rep") | {"Idempotency-Key": "k"}
    assert (await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=headers)).status_code == 503

    del actions.responses["CreateAccount"]
    assert (await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=headers)).status_code == 201
    assert len(actions.calls) == 2


async def test_an_idempotency_key_needs_the_store_but_a_plain_post_does_not(client, actions, redis, auth):
    redis.up = False
    assert (await client.post("/v1/accounts", json=valid_requests.ACCOUNT, headers=auth("rep"))).status_code == 201
    keyed = await client.post(
        "/v1/accounts", json=valid_requests.ACCOUNT, headers=auth("rep") | {"Idempotency-Key": "k"}
    )
    assert keyed.status_code == 503
    assert len(actions.calls) == 1


async def test_policy_patch_sends_only_the_given_settings_with_a_mask(client, actions, auth):
    actions.responses["UpdateTenantPolicy"] = pb.UpdateTenantPolicyResponse(
        policy=events_pb2.TenantPolicy(lead_response_limit_seconds=600, timezone="Asia/Shanghai")
    )
    body = {"lead_response_limit_seconds": 600, "stage_stall_threshold_seconds": {"proposal": 259200}}

    response = await client.patch("/v1/policies/process", json=body, headers=auth("manager"))

    assert response.status_code == 200
    assert response.json()["lead_response_limit_seconds"] == 600
    [call] = actions.calls
    assert list(call.request.update_mask.paths) == ["lead_response_limit_seconds", "stage_stall_threshold_seconds"]
    assert dict(call.request.policy.stage_stall_threshold_seconds) == {"proposal": 259200}


async def test_policy_patch_needs_a_setting_and_a_manager(client, actions, auth):
    assert (await client.patch("/v1/policies/process", json={}, headers=auth("manager"))).status_code == 422
    assert (await client.patch("/v1/policies/process", json={"colour": 1}, headers=auth("manager"))).status_code == 422
    forbidden = await client.patch("/v1/policies/process", json={"dwell_factor": 3.0}, headers=auth("rep"))
    assert forbidden.status_code == 403
    assert actions.calls == []

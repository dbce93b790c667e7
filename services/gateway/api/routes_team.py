"""The team and its process policies: who reports to whom, how long a deal may stall,
and every other process threshold of the tenant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import RegisterRepBody, StallPolicyBody, TenantPolicyPatch
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1", tags=["team"], responses=PROBLEM_RESPONSES)


@router.put("/reps/{rep_id}", dependencies=[authorize(Operation.MANAGE_TEAM)])
async def register_rep(rep_id: str, body: RegisterRepBody, actions: ActionsClient) -> dict[str, Any]:
    """Register a rep, or change their display name or manager."""
    response = await actions.call("RegisterRep", mapping.register_rep_request(rep_id, body))
    return mapping.message_json(response.rep)


@router.put("/policies/stall", dependencies=[authorize(Operation.MANAGE_TEAM)])
async def set_stall_policy(body: StallPolicyBody, actions: ActionsClient) -> dict[str, Any]:
    """Set how long an opportunity may sit in a stage without a valid action."""
    response = await actions.call("SetStallPolicy", mapping.set_stall_policy_request(body))
    return mapping.stall_policy_json(response.stall)


@router.get("/policies/stall")
async def get_stall_policy(actions: ActionsClient) -> dict[str, Any]:
    response = await actions.call("GetStallPolicy", pb.GetStallPolicyRequest())
    return mapping.stall_policy_json(response.stall)


@router.get("/policies/process")
async def get_tenant_policy(actions: ActionsClient) -> dict[str, Any]:
    """Every process threshold of the caller's tenant (the article's defaults where unset)."""
    response = await actions.call("GetTenantPolicy", pb.GetTenantPolicyRequest())
    return mapping.message_json(response.policy)


@router.patch("/policies/process", dependencies=[authorize(Operation.MANAGE_TEAM)])
async def update_tenant_policy(body: TenantPolicyPatch, actions: ActionsClient) -> dict[str, Any]:
    """Change the settings given; the others keep their values. Nothing changes when any
    value is refused."""
    response = await actions.call("UpdateTenantPolicy", mapping.update_tenant_policy_request(body))
    return mapping.message_json(response.policy)

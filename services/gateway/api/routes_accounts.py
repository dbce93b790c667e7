"""Accounts: the companies deals are sold to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, Idempotency, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import CreateAccountBody
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, dependencies=[authorize(Operation.WRITE_PIPELINE)])
async def create_account(body: CreateAccountBody, actions: ActionsClient, idempotency: Idempotency) -> JSONResponse:
    """Create an account; repeating a create with the same id and fields is a no-op."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("CreateAccount", mapping.create_account_request(body))
    return await idempotency.respond(201, mapping.message_json(response.account))


@router.get("/{account_id}")
async def get_account(account_id: str, actions: ActionsClient) -> dict[str, Any]:
    response = await actions.call("GetAccount", pb.GetAccountRequest(account_id=account_id))
    return mapping.message_json(response.account)

"""Accounts: the companies deals are sold to, their master data, grade and marketing
contact. Every change is decided by the audit policy first: a refusal is a 403 whose
problem names the policy rule (`rule_id`) and, where there is one, the approval
workflow to use instead (`approval_workflow`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dealpulse.actions.v1 import actions_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, Idempotency, authorize
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.gateway.api.schemas import CreateAccountBody, GradeChangeBody, MarketingContactBody, UpdateAccountBody
from services.gateway.domain.permissions import Operation

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=PROBLEM_RESPONSES)
_writers = [authorize(Operation.WRITE_PIPELINE)]


@router.post("", status_code=201, dependencies=_writers)
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


@router.patch("/{account_id}", dependencies=_writers)
async def update_account(
    account_id: str, body: UpdateAccountBody, actions: ActionsClient, idempotency: Idempotency
) -> JSONResponse:
    """Change the fields given (master data, owner, grade). Once the customer is won
    (an opportunity of it is closed-won) a rep may change the contact fields only, and
    the grade changes only through `POST /v1/accounts/{id}/grade-change-requests`."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("UpdateAccount", mapping.update_account_request(account_id, body))
    return await idempotency.respond(200, mapping.message_json(response.account))


@router.put("/{account_id}/marketing-contact", dependencies=_writers)
async def set_marketing_contact(
    account_id: str, body: MarketingContactBody, actions: ActionsClient, idempotency: Idempotency
) -> JSONResponse:
    """Name the marketing contact told (by WeCom/DingTalk robot or email) when the
    customer's grade changes."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("SetMarketingContact", mapping.set_marketing_contact_request(account_id, body))
    return await idempotency.respond(200, mapping.message_json(response.account))


@router.post("/{account_id}/grade-change-requests", status_code=202, dependencies=_writers)
async def request_grade_change(
    account_id: str, body: GradeChangeBody, actions: ActionsClient, idempotency: Idempotency
) -> JSONResponse:
    """Ask for a grade change through the customer_grade_change approval (a manager
    approves, then finance reviews). Accepted, not applied: the grade changes, BI is
    told on actions.grade.changed.v1 and the marketing contact is notified after the
    last approval; a rejection changes nothing and leaves the requester a to-do."""
    if (replayed := await idempotency.replay()) is not None:
        return replayed
    response = await actions.call("RequestGradeChange", mapping.request_grade_change_request(account_id, body))
    return await idempotency.respond(202, mapping.message_json(response))

"""Process alerts and the to-dos they create: as lists, and live over SSE."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from dealpulse.actions.v1 import actions_service_pb2 as pb
from kernel.auth import Principal
from services.gateway.adapters.alert_feed import FeedEvent
from services.gateway.api import mapping
from services.gateway.api.deps import ActionsClient, CurrentPrincipal, LiveFeed
from services.gateway.api.problems import PROBLEM_RESPONSES
from services.actions.domain.reporting.visibility import may_see_must_do
from services.actions.domain.visibility import may_see_alert, may_see_todo

router = APIRouter(prefix="/v1", tags=["alerts"], responses=PROBLEM_RESPONSES)

# Proxies close connections idle for a minute or so; a comment line keeps them open.
PING_SECONDS = 15


# The service filters the lists with the same visibility rule the live stream uses
# (services/actions/domain/visibility.py), so the two never disagree.
@router.get("/alerts")
async def list_alerts(actions: ActionsClient, opportunity_id: str = "") -> dict[str, Any]:
    response = await actions.call("ListAlerts", pb.ListAlertsRequest(opportunity_id=opportunity_id))
    return {"alerts": [mapping.message_json(a) for a in response.alerts]}


@router.get("/todos")
async def list_todos(actions: ActionsClient) -> dict[str, Any]:
    response = await actions.call("ListTodos", pb.ListTodosRequest())
    return {"todos": [mapping.message_json(t) for t in response.todos]}


@router.get(
    "/alerts/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-sent events: `event: alert` (an AlertRaised), `event: todo` "
            "(a TodoCreated) and `event: mustdo` (a rep's daily MustDoList) the caller may see, `id:` the event id; a comment every 15 s. "
            "Only events raised after connecting are sent; list history with GET /v1/alerts.",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream_alerts(principal: CurrentPrincipal, feed: LiveFeed) -> EventSourceResponse:
    async def events() -> AsyncIterator[ServerSentEvent]:
        with feed.subscribe(lambda event: _visible(principal, event)) as subscription:
            while (left := _seconds_left(principal)) > 0:
                try:
                    event = await asyncio.wait_for(anext(subscription), left)
                except (TimeoutError, StopAsyncIteration):
                    # The token expired (the client reconnects with a fresh one), or
                    # the feed closed this subscription.
                    return
                yield ServerSentEvent(
                    event=event.kind, id=event.event_id, data=json.dumps(mapping.message_json(event.message))
                )

    return EventSourceResponse(events(), ping=PING_SECONDS)


def _seconds_left(principal: Principal) -> float:
    if principal.expires_at is None:
        return float("inf")
    return (principal.expires_at - datetime.now(timezone.utc)).total_seconds()


def _visible(principal: Principal, event: FeedEvent) -> bool:
    if event.kind == "alert":
        return may_see_alert(principal, event.message)
    if event.kind == "mustdo":
        return may_see_must_do(principal, event.message)
    return may_see_todo(principal, event.message)

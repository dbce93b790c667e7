"""Typed dependencies of the routes. Authentication and role checks run before
anything else a route needs, so an unauthenticated or unauthorized request is turned
away before its fields are validated or any service is called."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.params import Depends as DependsMarker
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf.message import Message
from redis.asyncio import Redis

from kernel.auth import AuthError, Principal, TokenVerifier
from services.gateway.adapters.actions_client import ActionsPort
from services.gateway.adapters.alert_feed import AlertFeed
from services.gateway.api.idempotency import IdempotentResponder, request_fingerprint
from services.gateway.api.problems import Problem
from services.gateway.domain.permissions import ALLOWED_ROLES, Operation, may_perform

# auto_error=False: a missing token gets our problem document, not FastAPI's default.
_bearer = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="A JWT naming the caller (`sub`), their `tenant` and `roles`.",
    auto_error=False,
)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token: str


def _authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    # A plain `def`: FastAPI runs it in a worker thread, and verifying against a JWKS
    # endpoint may fetch keys over the network.
    if credentials is None:
        raise Problem(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = verifier.verify(credentials.credentials)
    except AuthError as exc:
        raise Problem(401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from exc
    return Caller(principal=principal, token=credentials.credentials)


AuthenticatedCaller = Annotated[Caller, Depends(_authenticate)]


def _current_principal(caller: AuthenticatedCaller) -> Principal:
    return caller.principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def authorize(operation: Operation) -> DependsMarker:
    """A route dependency refusing (403) callers whose roles never allow `operation`."""

    def check(principal: CurrentPrincipal) -> None:
        if not may_perform(principal, operation):
            roles = ", ".join(sorted(ALLOWED_ROLES[operation]))
            raise Problem(403, f"to {operation.value} you need one of the roles: {roles}")

    return Depends(check)


@dataclass(frozen=True)
class CallerActions:
    """The actions service on behalf of one verified caller: every call forwards the
    caller's own token, so the service sees who is asking, not the gateway."""

    port: ActionsPort
    token: str

    async def call(self, method: str, request: Message) -> Message:
        return await self.port.call(method, request, token=self.token)


def _caller_actions(request: Request, caller: AuthenticatedCaller) -> CallerActions:
    return CallerActions(port=request.app.state.actions, token=caller.token)


ActionsClient = Annotated[CallerActions, Depends(_caller_actions)]


async def _idempotent_responder(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> IdempotentResponder:
    body = await request.body()
    return IdempotentResponder(
        request.app.state.idempotency_store,
        # Per caller, not only per tenant: one user's key never answers another user.
        scope=(principal.tenant, principal.subject),
        key=idempotency_key,
        fingerprint=request_fingerprint(request.method, request.url.path, body),
    )


Idempotency = Annotated[IdempotentResponder, Depends(_idempotent_responder)]


def _redis(request: Request) -> Redis:
    return request.app.state.redis


def _alert_feed(request: Request) -> AlertFeed:
    return request.app.state.alert_feed


RedisClient = Annotated[Redis, Depends(_redis)]
LiveFeed = Annotated[AlertFeed, Depends(_alert_feed)]

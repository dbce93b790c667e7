"""The AuditService gRPC endpoint: proto in, the policy engine decides, proto out.

Who asks — subject, tenant, roles — is the verified bearer token (`current_principal()`),
never the request. `Check` answers a denial with OK and `allowed = false`: it is a
question, and the service doing the write turns the denial into PERMISSION_DENIED
naming the rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import grpc

from dealpulse.audit.v1 import audit_service_pb2 as api
from dealpulse.audit.v1 import audit_service_pb2_grpc as api_grpc
from kernel.auth import Principal
from kernel.grpc_server import current_principal, status_for
from services.audit.adapters.policy_book import TenantPolicies
from services.audit.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCommand,
    NotFound,
    PreconditionFailed,
)
from services.audit.domain.policies import OWNER_KEY, Decision

SERVICE_NAME = api.DESCRIPTOR.services_by_name["AuditService"].full_name

# Policies name entity types, fields and state keys with this alphabet (policies.py
# refuses anything else), so a name outside it can only be a caller's mistake.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_FIELDS = 256
MAX_STATE_KEYS = 128
MAX_STATE_TEXT = 1024

_STATUS: dict[type[DomainError], grpc.StatusCode] = {
    InvalidCommand: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.ALREADY_EXISTS,
    PreconditionFailed: grpc.StatusCode.FAILED_PRECONDITION,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
}


def _rpc(method):
    """Run with the verified caller; domain errors become gRPC status codes."""

    @functools.wraps(method)
    async def handler(self, request, context: grpc.aio.ServicerContext):
        principal = current_principal()
        try:
            return method(self, request, principal)
        except DomainError as exc:
            await context.abort(status_for(exc, _STATUS), str(exc))

    return handler


class AuditApi(api_grpc.AuditServiceServicer):
    def __init__(self, policies: TenantPolicies) -> None:
        self._policies = policies

    @_rpc
    def Check(self, request: api.CheckRequest, principal: Principal) -> api.CheckResponse:
        entity_type, fields, state = _check_query(request)
        # One PolicySet for the whole request: every field is decided by the same version.
        policy_set = self._policies.for_tenant(principal.tenant)
        decisions = [
            _decision(name, policy_set.decide(principal.roles, entity_type, state, name, actor_id=principal.subject))
            for name in fields
        ]
        return api.CheckResponse(
            allowed=all(d.allowed for d in decisions),
            decisions=decisions,
            tenant_id=principal.tenant,
            actor_id=principal.subject,
        )


# --- proto → domain -------------------------------------------------------------------


def _check_query(request: api.CheckRequest) -> tuple[str, list[str], dict[str, str | int | bool]]:
    """Validate a CheckRequest; InvalidCommand names the request field that is wrong."""
    if not request.entity_type:
        raise InvalidCommand("entity_type", "is required")
    if not _NAME.match(request.entity_type):
        raise InvalidCommand("entity_type", f"{request.entity_type!r} must be lowercase letters, digits and '_' (1-64)")
    if not _ID.match(request.entity_id):
        raise InvalidCommand("entity_id", "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    fields = list(request.fields)
    if not fields:
        raise InvalidCommand("fields", "name at least one field the write sets")
    if len(fields) > MAX_FIELDS:
        raise InvalidCommand("fields", f"at most {MAX_FIELDS} fields per check, got {len(fields)}")
    seen: set[str] = set()
    for index, name in enumerate(fields):
        if not _NAME.match(name):
            raise InvalidCommand(f"fields[{index}]", f"{name!r} must be lowercase letters, digits and '_' (1-64)")
        if name in seen:
            raise InvalidCommand(f"fields[{index}]", f"{name!r} is listed twice")
        seen.add(name)
    return request.entity_type, fields, _record_state(request.record_state)


def _record_state(values: Mapping[str, api.StateValue]) -> dict[str, str | int | bool]:
    if len(values) > MAX_STATE_KEYS:
        raise InvalidCommand("record_state", f"at most {MAX_STATE_KEYS} keys, got {len(values)}")
    state: dict[str, str | int | bool] = {}
    for key in sorted(values):
        where = f"record_state[{key!r}]"
        if not _NAME.match(key):
            raise InvalidCommand(where, "keys must be lowercase letters, digits and '_' (1-64)")
        value = values[key]
        kind = value.WhichOneof("kind")
        if kind is None:
            raise InvalidCommand(where, "has no value: set string_value, int_value or bool_value")
        if key == OWNER_KEY and kind != "string_value":
            # The engine compares the owner with the token's subject, which is text: an
            # owner of another type would match nobody and lift owner-only deny rules.
            raise InvalidCommand(where, "the record's owner must be a string_value (a user id)")
        plain = getattr(value, kind)
        if kind == "string_value" and len(plain) > MAX_STATE_TEXT:
            raise InvalidCommand(where, f"must be at most {MAX_STATE_TEXT} characters")
        state[key] = plain
    return state


# --- domain → proto -------------------------------------------------------------------


def _decision(field: str, decision: Decision) -> api.FieldDecision:
    return api.FieldDecision(
        field=field,
        allowed=decision.allowed,
        rule_id=decision.rule_id,
        reason=decision.reason,
        policy_id=decision.policy_id,
        policy_version=decision.policy_version,
        approval_workflow=decision.approval_workflow,
    )

"""The client every service's write path uses to ask audit `Check` before it appends.

It forwards the end user's bearer token (the decision is made, and audited, for that
user), sends the record's current state with each value's type, and turns a denial
into `PolicyDenied`, whose message names the first denied field, the rule and its
reason, and the approval workflow to use instead when there is one. A service maps
`PolicyDenied` to PERMISSION_DENIED and `AuditUnavailable` to UNAVAILABLE, and appends
nothing in either case: a write is never made without an audited decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from dealpulse.audit.v1 import audit_service_pb2 as audit_api
from dealpulse.audit.v1 import audit_service_pb2_grpc as audit_grpc
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.grpc_server import bearer_metadata

StateFact = str | int | bool
_SOURCES = {
    "api": audit_events.SOURCE_API,
    "webhook": audit_events.SOURCE_WEBHOOK,
    "system": audit_events.SOURCE_SYSTEM,
}


@dataclass(frozen=True)
class FieldDenial:
    field: str
    rule_id: str
    reason: str
    policy_id: str
    policy_version: int
    approval_workflow: str


class PolicyDenied(Exception):
    """The policy denies the write; `denials` holds every denied field, in request order."""

    def __init__(self, denials: list[FieldDenial]) -> None:
        first = denials[0]
        message = f"{first.field}: denied by rule {first.rule_id} ({first.reason})"
        if first.approval_workflow:
            message += f"; request the change through the {first.approval_workflow} approval"
        super().__init__(message)
        self.denials = denials
        self.rule_id = first.rule_id
        self.approval_workflow = first.approval_workflow


class AuditUnavailable(Exception):
    """The decision could not be made or audited; retry the write later."""


def _state_value(key: str, fact: StateFact) -> audit_api.StateValue:
    if isinstance(fact, bool):
        return audit_api.StateValue(bool_value=fact)
    if isinstance(fact, int):
        return audit_api.StateValue(int_value=fact)
    if isinstance(fact, str):
        return audit_api.StateValue(string_value=fact)
    raise TypeError(f"record_state[{key!r}] must be str, int or bool, not {type(fact).__name__}")


class AuditCheck:
    def __init__(self, address: str, *, timeout_seconds: float = 2.0) -> None:
        self._channel = grpc.aio.insecure_channel(address, interceptors=aio_client_interceptors())
        self._stub = audit_grpc.AuditServiceStub(self._channel)
        self._timeout = timeout_seconds

    async def require(
        self,
        token: str,
        *,
        entity_type: str,
        entity_id: str,
        fields: Iterable[str],
        record_state: Mapping[str, StateFact],
        source: str = "api",
    ) -> audit_api.CheckResponse:
        """Return the (allowed) decision, or raise PolicyDenied / AuditUnavailable.
        A malformed question is the caller's bug and surfaces as the gRPC error."""
        request = audit_api.CheckRequest(
            entity_type=entity_type,
            entity_id=entity_id,
            fields=list(fields),
            record_state={key: _state_value(key, fact) for key, fact in record_state.items()},
            source=_SOURCES[source],
        )
        try:
            reply = await self._stub.Check(request, metadata=bearer_metadata(token), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise AuditUnavailable(f"audit Check failed: {exc.code().name} {exc.details()}") from exc
            raise
        if not reply.allowed:
            raise PolicyDenied(
                [
                    FieldDenial(d.field, d.rule_id, d.reason, d.policy_id, d.policy_version, d.approval_workflow)
                    for d in reply.decisions
                    if not d.allowed
                ]
            )
        return reply

    async def close(self) -> None:
        await self._channel.close()

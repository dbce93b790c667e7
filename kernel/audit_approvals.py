"""The client a service uses to submit a change to an audit approval workflow on behalf
of the person asking (their token is forwarded: the request is theirs).

The owning service chooses the request id, derived from the change, so submitting
again after a timeout names the same request and audit answers with it unchanged.
The outcome arrives later on `audit.approval.completed.v1`, keyed by the entity.

Audit answers DEADLINE_EXCEEDED when it has appended the submission but its projection
does not show it yet (approvals contract): the request exists, so that answer counts
as submitted (pending). Our own deadline passing proves nothing and is AuditUnavailable.
"""

from __future__ import annotations

import asyncio
import json

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from dealpulse.audit.v1 import audit_service_pb2 as audit_api
from dealpulse.audit.v1 import audit_service_pb2_grpc as audit_grpc
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.audit_check import AuditUnavailable
from kernel.grpc_server import bearer_metadata

JsonValue = None | bool | int | str
# A DEADLINE_EXCEEDED this long before our own deadline came from audit, not from us.
ANSWER_MARGIN_SECONDS = 0.5


class ApprovalRefused(Exception):
    """Audit refused the submission (wrong role, bad change, conflicting request id):
    `code` is audit's status, to be passed on to the caller as it is."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code


class AuditApprovals:
    # Audit answers once its projection shows the request (it waits up to its
    # read-your-write timeout, 10 s by default): give it that long and a little more.
    def __init__(self, address: str, *, timeout_seconds: float = 12.0) -> None:
        self._channel = grpc.aio.insecure_channel(address, interceptors=aio_client_interceptors())
        self._stub = audit_grpc.AuditServiceStub(self._channel)
        self._timeout = timeout_seconds

    async def submit(
        self,
        token: str,
        *,
        request_id: str,
        workflow: str,
        entity_type: str,
        entity_id: str,
        field: str,
        before: JsonValue,
        after: JsonValue,
        reason: str,
    ) -> audit_api.ApprovalRequest:
        request = audit_api.SubmitApprovalRequest(
            request_id=request_id,
            workflow=workflow,
            change=audit_events.ProposedChange(
                entity_type=entity_type,
                entity_id=entity_id,
                field=field,
                before_json=json.dumps(before, ensure_ascii=False),
                after_json=json.dumps(after, ensure_ascii=False),
            ),
            reason=reason,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            reply = await self._stub.SubmitApproval(request, metadata=bearer_metadata(token), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            answered_in_time = loop.time() - started < self._timeout - ANSWER_MARGIN_SECONDS
            if exc.code() is grpc.StatusCode.DEADLINE_EXCEEDED and answered_in_time:
                # Audit's own answer, not our deadline: it has appended the submission and
                # only its projection is behind, so the request exists and is pending.
                return audit_api.ApprovalRequest(
                    request_id=request_id,
                    workflow=workflow,
                    change=request.change,
                    reason=reason,
                    status=audit_events.APPROVAL_STATUS_PENDING,
                )
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise AuditUnavailable(f"audit SubmitApproval failed: {exc.code().name} {exc.details()}") from exc
            raise ApprovalRefused(exc.code(), exc.details() or exc.code().name) from exc
        return reply.request

    async def close(self) -> None:
        await self._channel.close()

"""kernel.audit_approvals against a stand-in AuditService in-process: the caller's token
and the change travel as given; audit's own "accepted, not visible yet" answer counts as
submitted; a refusal keeps audit's status; our own deadline is AuditUnavailable."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
import pytest_asyncio

from dealpulse.audit.v1 import audit_service_pb2 as api
from dealpulse.audit.v1 import audit_service_pb2_grpc as api_grpc
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.audit_approvals import ApprovalRefused, AuditApprovals
from kernel.audit_check import AuditUnavailable


class StandIn(api_grpc.AuditServiceServicer):
    def __init__(self) -> None:
        self.answer = "ok"
        self.received = []

    async def SubmitApproval(self, request, context):
        self.received.append((request, dict(context.invocation_metadata())))
        if self.answer == "behind":
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"request {request.request_id} is accepted but not visible yet")
        if self.answer == "refuse":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "submitting needs one of the roles manager")
        if self.answer == "hang":
            await asyncio.sleep(5)
        return api.SubmitApprovalResponse(
            request=api.ApprovalRequest(request_id=request.request_id, workflow=request.workflow, submitted_by="bob",
                                        status=audit_events.APPROVAL_STATUS_PENDING)
        )


@pytest_asyncio.fixture
async def audit():
    server = grpc.aio.server()
    stand_in = StandIn()
    api_grpc.add_AuditServiceServicer_to_server(stand_in, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    client = AuditApprovals(f"127.0.0.1:{port}", timeout_seconds=2.0)
    yield client, stand_in
    await client.close()
    await server.stop(None)


async def submit(client):
    return await client.submit(
        "tok", request_id="grade-1", workflow="customer_grade_change", entity_type="account", entity_id="ruijin",
        field="grade", before=None, after="A", reason="volume doubled",
    )


async def test_the_request_travels_with_the_callers_token(audit):
    client, stand_in = audit
    submitted = await submit(client)
    assert (submitted.request_id, submitted.submitted_by) == ("grade-1", "bob")
    request, metadata = stand_in.received[0]
    assert metadata["authorization"] == "Bearer tok"
    assert (request.change.entity_type, request.change.field) == ("account", "grade")
    assert (json.loads(request.change.before_json), json.loads(request.change.after_json)) == (None, "A")


async def test_audits_accepted_but_behind_answer_counts_as_pending(audit):
    client, stand_in = audit
    stand_in.answer = "behind"
    submitted = await submit(client)
    assert (submitted.request_id, submitted.status) == ("grade-1", audit_events.APPROVAL_STATUS_PENDING)


async def test_a_refusal_keeps_audits_status(audit):
    client, stand_in = audit
    stand_in.answer = "refuse"
    with pytest.raises(ApprovalRefused) as refused:
        await submit(client)
    assert refused.value.code is grpc.StatusCode.PERMISSION_DENIED


async def test_our_own_deadline_is_unavailable_not_submitted(audit):
    client, stand_in = audit
    stand_in.answer = "hang"
    with pytest.raises(AuditUnavailable):
        await submit(client)

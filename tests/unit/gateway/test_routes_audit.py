"""The audit routes forward the caller's token to the audit service with the right
RPC and fields, render JSON values for the log's JSON text, serve exports as
downloads, and turn the service's refusals into problem documents."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio
from google.protobuf.message_factory import GetMessageClass

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import events_pb2 as events
from services.gateway.app import create_app

from .fakes import rpc_error

_SERVICE = pb.DESCRIPTOR.services_by_name["AuditService"]


class FakeAudit:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object, str]] = []
        self.responses: dict[str, object] = {}

    async def call(self, method, request, *, token):
        rpc = _SERVICE.methods_by_name[method]
        assert request.DESCRIPTOR is rpc.input_type
        self.calls.append((method, request, token))
        answer = self.responses.get(method)
        if isinstance(answer, grpc.aio.AioRpcError):
            raise answer
        return answer if answer is not None else GetMessageClass(rpc.output_type)()

    async def close(self) -> None:
        pass


@pytest.fixture
def audit() -> FakeAudit:
    return FakeAudit()


@pytest_asyncio.fixture
async def client(settings, actions, redis, alert_feed, audit) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, actions=actions, redis=redis, alert_feed=alert_feed, audit=audit)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as http:
            yield http


def grade_request(status=events.APPROVAL_STATUS_PENDING) -> pb.ApprovalRequest:
    return pb.ApprovalRequest(
        request_id="r1",
        workflow="customer_grade_change",
        workflow_version=1,
        change=events.ProposedChange(entity_type="account", entity_id="ruijin", field="grade", before_json='"B"', after_json='"A"'),
        submitted_by="bob",
        status=status,
        steps=[pb.ApprovalStep(name="manager_approval", approver_roles=["manager"], verdict=events.VERDICT_APPROVE)],
    )


async def test_submitting_forwards_the_change_as_json_text_and_renders_values(client, audit, auth):
    audit.responses["SubmitApproval"] = pb.SubmitApprovalResponse(request=grade_request())
    body = {
        "request_id": "r1",
        "workflow": "customer_grade_change",
        "change": {"entity_type": "account", "entity_id": "ruijin", "field": "grade", "before": "B", "after": "A"},
        "reason": "three-year framework",
    }
    headers = auth("rep", subject="bob")
    response = await client.post("/v1/approvals", json=body, headers=headers)
    assert response.status_code == 201
    shown = response.json()
    assert shown["change"] == {"entity_type": "account", "entity_id": "ruijin", "field": "grade", "before": "B", "after": "A"}
    assert shown["status"] == "pending" and shown["steps"][0]["verdict"] == "approve"
    [(method, request, token)] = audit.calls
    assert method == "SubmitApproval" and f"Bearer {token}" == headers["Authorization"]
    assert request.change.before_json == '"B"' and request.change.after_json == '"A"' and request.request_id == "r1"


async def test_a_decision_names_step_verdict_and_ids(client, audit, auth):
    audit.responses["DecideApproval"] = pb.DecideApprovalResponse(request=grade_request(events.APPROVAL_STATUS_REJECTED))
    response = await client.post(
        "/v1/approvals/r1/decisions",
        json={"step": "manager_approval", "verdict": "reject", "reason": "no", "decision_id": "d1"},
        headers=auth("manager"),
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert audit.calls[0][1] == pb.DecideApprovalRequest(
        request_id="r1", step="manager_approval", verdict=events.VERDICT_REJECT, reason="no", decision_id="d1"
    )


async def test_the_service_refusal_is_a_problem_naming_the_reason(client, audit, auth):
    audit.responses["DecideApproval"] = rpc_error(
        grpc.StatusCode.PERMISSION_DENIED, "step manager_approval of customer_grade_change needs one of the roles manager"
    )
    response = await client.post(
        "/v1/approvals/r1/decisions", json={"step": "manager_approval", "verdict": "approve"}, headers=auth("rep")
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "needs one of the roles manager" in response.json()["detail"]


async def test_bad_bodies_are_refused_before_the_service_is_called(client, audit, auth):
    for body in (
        {"workflow": "Grade!", "change": {"entity_type": "account", "entity_id": "a", "field": "grade", "after": "A"}, "reason": "x"},
        {"workflow": "customer_grade_change", "change": {"entity_type": "account", "entity_id": "a", "field": "grade", "after": 1.5}, "reason": "x"},
        {"workflow": "customer_grade_change", "change": {"entity_type": "account", "entity_id": "a", "field": "grade", "after": "A"}},
    ):
        response = await client.post("/v1/approvals", json=body, headers=auth("rep"))
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
    float_problem = (await client.post("/v1/approvals", json=body | {"reason": "x", "change": body["change"] | {"after": {"p": [1.5]}}}, headers=auth("rep"))).json()
    assert float_problem["errors"] == [{"pointer": "#/change/after/p/0", "detail": float_problem["errors"][0]["detail"]}]
    response = await client.post("/v1/approvals/r1/decisions", json={"step": "s", "verdict": "maybe"}, headers=auth("manager"))
    assert response.status_code == 422
    assert not audit.calls


async def test_get_and_pending(client, audit, auth):
    audit.responses["GetApproval"] = pb.GetApprovalResponse(request=grade_request())
    audit.responses["ListPendingApprovals"] = pb.ListPendingApprovalsResponse(requests=[grade_request()])
    assert (await client.get("/v1/approvals/r1", headers=auth("manager"))).json()["request_id"] == "r1"
    pending = (await client.get("/v1/approvals/pending", headers=auth("manager"))).json()
    assert [r["request_id"] for r in pending["requests"]] == ["r1"]
    assert [c[0] for c in audit.calls] == ["GetApproval", "ListPendingApprovals"]


async def test_query_passes_the_filter_and_renders_records(client, audit, auth):
    record = events.AuditRecord(
        entry=events.AuditEntry(tenant_id="acme", event_id="e1", entity_type="account", entity_id="a1", field="grade",
                                before_json='"B"', after_json='"A"'),
        sequence=7,
        hash="h",
    )
    audit.responses["QueryRecords"] = pb.QueryRecordsResponse(records=[record], next_after_sequence=7)
    response = await client.get(
        "/v1/audit/records",
        params={"entity_type": "account", "entity_id": "a1", "since": "2026-03-13T17:00:00+08:00", "page_size": 1},
        headers=auth("director"),
    )
    assert response.status_code == 200
    shown = response.json()
    assert shown["records"][0]["entry"]["after"] == "A" and shown["records"][0]["sequence"] == 7
    assert shown["next_after_sequence"] == 7
    request = audit.calls[0][1]
    assert (request.filter.entity_type, request.filter.entity_id, request.page_size) == ("account", "a1", 1)
    assert request.filter.since.seconds == 1773392400
    bad = await client.get("/v1/audit/records", params={"since": "2026-03-13T17:00:00"}, headers=auth("director"))
    assert bad.status_code == 422


async def test_exports_are_downloads(client, audit, auth):
    audit.responses["ExportRecords"] = pb.ExportRecordsResponse(content=b"sequence,actor_id\n1,bob\n", content_type="text/csv; charset=utf-8", record_count=1)
    response = await client.get("/v1/audit/records/export", params={"format": "csv", "actor_id": "bob"}, headers=auth("admin"))
    assert response.status_code == 200 and response.text.startswith("sequence,actor_id")
    assert response.headers["content-disposition"] == 'attachment; filename="audit-records.csv"'
    assert response.headers["x-record-count"] == "1"
    assert audit.calls[0][1].format == pb.EXPORT_FORMAT_CSV and audit.calls[0][1].filter.actor_id == "bob"


async def test_verify_and_anomaly_report(client, audit, auth):
    audit.responses["VerifyChain"] = pb.VerifyChainResponse(ok=False, checked=4, problem=pb.CHAIN_PROBLEM_KIND_EDITED, problem_sequence=5)
    verdict = (await client.get("/v1/audit/verify", headers=auth("admin"))).json()
    assert verdict["ok"] is False and verdict["problem"] == "edited" and verdict["problem_sequence"] == 5
    audit.responses["GetAnomalyReport"] = pb.GetAnomalyReportResponse(
        report=events.AnomalyReport(
            week="2026-W11",
            findings=[events.AnomalyFinding(kind="after_hours_friday", actor_id="rep-3", count=10, evidence=[
                events.AnomalyEvidence(sequence=9, field="grade", before_json='"B"', after_json='"A"')])],
        ),
        provisional=True,
    )
    report = (await client.get("/v1/audit/anomaly-report", params={"week": "2026-W11"}, headers=auth("director"))).json()
    assert report["report"]["findings"][0]["evidence"][0]["after"] == "A" and report["provisional"] is True
    assert audit.calls[-1][1].week == "2026-W11"
    assert (await client.get("/v1/audit/anomaly-report", params={"week": "2026-11"}, headers=auth("director"))).status_code == 422


async def test_without_a_token_nothing_is_called(client, audit):
    assert (await client.get("/v1/audit/verify")).status_code == 401
    assert not audit.calls

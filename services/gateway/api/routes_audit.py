"""The audit log (query, CSV/JSON export, chain verification), approvals (submit,
decide, read, what waits for me) and the weekly anomaly report. The audit service
decides who may do what from the forwarded token: a refusal comes back as a 403
problem naming the rule or the roles needed.

Values the log and approvals carry as JSON text (`before_json`, `after_json`) are
rendered as JSON values (`before`, `after`), and taken as JSON values in bodies.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import events_pb2 as events
from services.gateway.api import mapping
from services.gateway.api.deps import AuthenticatedCaller
from services.gateway.api.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/v1", tags=["audit"], responses=PROBLEM_RESPONSES)

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_NAME = r"^[a-z][a-z0-9_]{0,63}$"
_FORMATS = {"csv": pb.EXPORT_FORMAT_CSV, "json": pb.EXPORT_FORMAT_JSON}
_VERDICTS = {"approve": events.VERDICT_APPROVE, "reject": events.VERDICT_REJECT}


class CallerAudit:
    def __init__(self, request: Request, caller: AuthenticatedCaller) -> None:
        self._port = request.app.state.audit
        self._token = caller.token

    async def call(self, method: str, message):
        return await self._port.call(method, message, token=self._token)


Audit = Annotated[CallerAudit, Depends(CallerAudit)]


def _values(data: Any) -> Any:
    """`x_json` text fields become their JSON values under `x`."""
    if isinstance(data, list):
        return [_values(item) for item in data]
    if not isinstance(data, dict):
        return data
    shown: dict[str, Any] = {}
    for key, value in data.items():
        if key.endswith("_json") and isinstance(value, str):
            shown[key.removesuffix("_json")] = json.loads(value) if value else None
        else:
            shown[key] = _values(value)
    return shown


def _json(message) -> dict[str, Any]:
    return _values(mapping.message_json(message))


# --- the audit log ---------------------------------------------------------------------


class RecordFilter:
    def __init__(
        self,
        entity_type: Annotated[str, Query(pattern=_NAME, description="e.g. opportunity, account")] = "",
        entity_id: Annotated[str, Query(pattern=_ID, description="needs entity_type")] = "",
        actor_id: Annotated[str, Query(pattern=_ID)] = "",
        field: Annotated[str, Query(pattern=_NAME)] = "",
        since: Annotated[datetime | None, Query(description="RFC 3339, inclusive")] = None,
        until: Annotated[datetime | None, Query(description="RFC 3339, exclusive")] = None,
    ) -> None:
        self.message = pb.RecordFilter(entity_type=entity_type, entity_id=entity_id, actor_id=actor_id, field=field)
        for name, moment in (("since", since), ("until", until)):
            if moment is not None:
                if moment.tzinfo is None:
                    raise Problem(422, f"{name} needs a UTC offset", errors=[{"parameter": name, "detail": "no UTC offset"}])
                stamp = Timestamp()
                stamp.FromDatetime(moment)
                getattr(self.message, name).CopyFrom(stamp)


Filter = Annotated[RecordFilter, Depends(RecordFilter)]


@router.get("/audit/records", summary="The tenant's audit records matching every criterion, in chain order (auditors)")
async def query_records(
    audit: Audit,
    where: Filter,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_sequence: Annotated[int, Query(ge=0, description="next_after_sequence of the previous page")] = 0,
) -> dict[str, Any]:
    response = await audit.call(
        "QueryRecords", pb.QueryRecordsRequest(filter=where.message, page_size=page_size, after_sequence=after_sequence)
    )
    return _json(response)


@router.get(
    "/audit/records/export",
    summary="The same selection as a CSV or JSON download (auditors)",
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
async def export_records(
    audit: Audit,
    where: Filter,
    format: Literal["csv", "json"] = "csv",
    max_records: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
) -> Response:
    response = await audit.call(
        "ExportRecords", pb.ExportRecordsRequest(filter=where.message, format=_FORMATS[format], max_records=max_records)
    )
    return Response(
        content=response.content,
        media_type=response.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="audit-records.{format}"',
            "X-Record-Count": str(response.record_count),
        },
    )


@router.get("/audit/verify", summary="Walk the tenant's hash chain; the first broken, edited or missing record (admins, directors)")
async def verify_chain(audit: Audit) -> dict[str, Any]:
    return _json(await audit.call("VerifyChain", pb.VerifyChainRequest()))


@router.get("/audit/anomaly-report", summary="The anomaly report of a week, each finding with its evidence (auditors)")
async def anomaly_report(
    audit: Audit,
    week: Annotated[str, Query(pattern=r"^(\d{4}-W\d{2})?$", description="ISO week, e.g. 2026-W10; empty: the last finished week")] = "",
) -> dict[str, Any]:
    return _json(await audit.call("GetAnomalyReport", pb.GetAnomalyReportRequest(week=week)))


# --- approvals -------------------------------------------------------------------------


class ChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity_type: str = Field(pattern=_NAME, examples=["account"])
    entity_id: str = Field(pattern=_ID)
    field: str = Field(pattern=_NAME, examples=["grade"])
    before: Any = Field(None, description="the current value (JSON; integers, not floats)")
    after: Any = Field(description="the value asked for")


class SubmitApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str | None = Field(
        None, pattern=_ID, description="your id for the request: send one so a retry is answered, not duplicated"
    )
    workflow: str = Field(pattern=_NAME, examples=["customer_grade_change"])
    change: ChangeBody
    reason: str = Field(min_length=1, max_length=2000)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str = Field(pattern=_NAME, examples=["manager_approval"])
    verdict: Literal["approve", "reject"]
    reason: str = Field("", max_length=2000, description="required to reject")
    decision_id: str | None = Field(None, pattern=_ID, description="your id for the decision: a retry is answered once")


def _json_text(value: Any, pointer: str) -> str:
    """The audit log hashes values by one spelling; a float has none, so it is refused
    here (send integer cents or a decimal string)."""
    if isinstance(value, float):
        detail = f"{value} is a number with a fraction; send an integer (e.g. cents) or a decimal string"
        raise Problem(422, "the request is not valid", errors=[{"pointer": pointer, "detail": detail}])
    if isinstance(value, list):
        for index, item in enumerate(value):
            _json_text(item, f"{pointer}/{index}")
    if isinstance(value, dict):
        for key, item in value.items():
            _json_text(item, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@router.post("/approvals", status_code=201, summary="Submit a change for approval (the workflow's submitter roles)")
async def submit_approval(body: SubmitApprovalBody, audit: Audit) -> dict[str, Any]:
    change = events.ProposedChange(
        entity_type=body.change.entity_type,
        entity_id=body.change.entity_id,
        field=body.change.field,
        before_json=_json_text(body.change.before, "#/change/before"),
        after_json=_json_text(body.change.after, "#/change/after"),
    )
    response = await audit.call(
        "SubmitApproval",
        pb.SubmitApprovalRequest(
            request_id=body.request_id or uuid.uuid4().hex, workflow=body.workflow, change=change, reason=body.reason
        ),
    )
    return _json(response.request)


@router.get("/approvals/pending", summary="Requests with a step you may decide now")
async def pending_approvals(audit: Audit) -> dict[str, Any]:
    return _json(await audit.call("ListPendingApprovals", pb.ListPendingApprovalsRequest()))


@router.get("/approvals/{request_id}", summary="One approval request with its steps and decisions")
async def get_approval(request_id: str, audit: Audit) -> dict[str, Any]:
    return _json((await audit.call("GetApproval", pb.GetApprovalRequest(request_id=request_id))).request)


@router.post("/approvals/{request_id}/decisions", summary="Approve or reject a step (the step's roles only)")
async def decide_approval(request_id: str, body: DecisionBody, audit: Audit) -> dict[str, Any]:
    response = await audit.call(
        "DecideApproval",
        pb.DecideApprovalRequest(
            request_id=request_id,
            step=body.step,
            verdict=_VERDICTS[body.verdict],
            reason=body.reason,
            decision_id=body.decision_id or uuid.uuid4().hex,
        ),
    )
    return _json(response.request)

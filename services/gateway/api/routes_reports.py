"""Reports: the daily must-do list, the weekly compliance report (JSON, CSV, XLSX),
process scores, lead follow-up metrics, and where a team's notifications go.
Reps see themselves, managers their team, directors and admins the tenant; the
actions service decides (the gateway only forwards the caller's token)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from dealpulse.actions.v1 import reports_service_pb2 as pb
from services.gateway.api import mapping
from services.gateway.api.deps import AuthenticatedCaller
from services.gateway.api.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=PROBLEM_RESPONSES)

_FORMATS = {"json": pb.REPORT_FORMAT_JSON, "csv": pb.REPORT_FORMAT_CSV, "xlsx": pb.REPORT_FORMAT_XLSX}
Week = Annotated[str, Query(pattern=r"^(\d{4}-W\d{2})?$", description="ISO week, e.g. 2026-W10; empty: the current week")]
TeamId = Annotated[str, Query(max_length=128, description="a manager's id; empty: every team you may see")]


class CallerReports:
    def __init__(self, request: Request, caller: AuthenticatedCaller) -> None:
        self._port = request.app.state.reports
        self._token = caller.token

    async def call(self, method: str, message):
        return await self._port.call(method, message, token=self._token)


Reports = Annotated[CallerReports, Depends(CallerReports)]


@router.get("/must-do", summary="A rep's must-do list for a day (default: the caller, today)")
async def get_must_do(
    reports: Reports,
    rep_id: Annotated[str, Query(max_length=128)] = "",
    day: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="YYYY-MM-DD, tenant-local")] = "",
) -> dict[str, Any]:
    response = await reports.call("GetMustDo", pb.GetMustDoRequest(rep_id=rep_id, day=day))
    return mapping.message_json(response.list)


@router.get(
    "/compliance",
    summary="The weekly action-compliance report",
    responses={
        200: {
            "description": "JSON by default; `format=csv` or `format=xlsx` downloads a file.",
            "content": {
                "application/json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
        }
    },
)
async def get_compliance(
    reports: Reports,
    week: Week = "",
    team_id: TeamId = "",
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Response:
    response = await reports.call(
        "GetComplianceReport", pb.GetComplianceReportRequest(week=week, team_id=team_id, format=_FORMATS[format])
    )
    headers = {}
    if format != "json":
        headers["Content-Disposition"] = f'attachment; filename="{response.filename}"'
    return Response(content=response.content, media_type=response.content_type, headers=headers)


@router.get("/process-scores", summary="Process scores per rep (action quality weighted per tenant policy)")
async def list_process_scores(reports: Reports, week: Week = "", team_id: TeamId = "") -> dict[str, Any]:
    response = await reports.call("ListProcessScores", pb.ListProcessScoresRequest(week=week, team_id=team_id))
    return mapping.message_json(response)


@router.get("/follow-up", summary="Lead follow-up cycle and first-week conversion per team (managers)")
async def list_follow_up(reports: Reports, week: Week = "") -> dict[str, Any]:
    response = await reports.call("ListFollowUpMetrics", pb.ListFollowUpMetricsRequest(week=week))
    return mapping.message_json(response)


class NotificationRouteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wecom_webhook_url: str = Field("", max_length=2000)
    dingtalk_webhook_url: str = Field("", max_length=2000)
    dingtalk_secret: str = Field("", max_length=200)
    email_recipients: list[Annotated[str, Field(max_length=320)]] = Field(default_factory=list, max_length=50)


@router.put("/notification-routes/{team_id}", summary="Where a team's must-do lists and weekly reports go (managers)")
async def set_route(team_id: str, body: NotificationRouteBody, reports: Reports) -> dict[str, Any]:
    # "-" is the tenant's default route (directors and admins).
    route = pb.NotificationRoute(team_id="" if team_id == "-" else team_id, **body.model_dump())
    response = await reports.call("SetNotificationRoute", pb.SetNotificationRouteRequest(route=route))
    return mapping.message_json(response.route)


@router.get("/notification-routes/{team_id}", summary="A team's notification route (the DingTalk secret is never shown)")
async def get_route(team_id: str, reports: Reports) -> dict[str, Any]:
    response = await reports.call(
        "GetNotificationRoute", pb.GetNotificationRouteRequest(team_id="" if team_id == "-" else team_id)
    )
    return {**mapping.message_json(response.route), "dingtalk_signed": response.dingtalk_signed}

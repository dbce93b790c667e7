"""The ReportsService gRPC endpoint: must-do lists, the compliance report (JSON, CSV,
XLSX), process scores, follow-up metrics and notification routes. Read-only over the
reporting aggregates, except the routes."""

from __future__ import annotations

from datetime import date

from dealpulse.actions.v1 import reports_service_pb2 as api
from dealpulse.actions.v1 import reports_service_pb2_grpc as api_grpc
from kernel.auth import MANAGING_ROLES
from kernel.notifications.model import EMAIL
from services.actions.adapters.grpc_api import grpc_method
from services.actions.adapters.reporting import export
from services.actions.adapters.reporting.service import (
    NotificationRoute,
    ReportingService,
    followup_to_proto,
)
from services.actions.domain.commands import require_id
from services.actions.domain.errors import Forbidden, InvalidCommand, NotFound
from services.actions.domain.reporting.visibility import REPORT_ROLES, may_see_rep

_FORMATS = {
    api.REPORT_FORMAT_UNSPECIFIED: "json",
    api.REPORT_FORMAT_JSON: "json",
    api.REPORT_FORMAT_CSV: "csv",
    api.REPORT_FORMAT_XLSX: "xlsx",
}


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidCommand("day", f"{text!r} is not a date like 2026-03-02") from None


def _webhook(url: str, field: str) -> str:
    if url and not url.startswith(("https://", "http://")):
        raise InvalidCommand(field, "must be an http(s) URL")
    return url


class ReportsApi(api_grpc.ReportsServiceServicer):
    def __init__(self, service: ReportingService) -> None:
        self._service = service

    @grpc_method(*REPORT_ROLES)
    async def GetMustDo(self, request: api.GetMustDoRequest, principal) -> api.GetMustDoResponse:
        rep_id = request.rep_id or principal.subject
        require_id(rep_id, "rep_id")
        rep = await self._service.rep(principal.tenant, rep_id)
        if not may_see_rep(principal, rep.rep_id, rep.team_id):
            # Another team's rep does not exist for this caller.
            raise NotFound(f"rep {rep_id} not found")
        listed = await self._service.must_do(principal.tenant, rep, _day(request.day), principal)
        return api.GetMustDoResponse(list=listed)

    @grpc_method(*REPORT_ROLES)
    async def GetComplianceReport(self, request: api.GetComplianceReportRequest, principal) -> api.GetComplianceReportResponse:
        if request.format not in _FORMATS:
            raise InvalidCommand("format", f"unknown report format {request.format}")
        week, now, _ = await self._service.week_or_current(principal.tenant, request.week)
        report = await self._service.compliance(principal.tenant, week, now, principal, request.team_id)
        content, content_type, filename = export.render(report, _FORMATS[request.format])
        return api.GetComplianceReportResponse(content_type=content_type, filename=filename, content=content, week=str(week))

    @grpc_method(*REPORT_ROLES)
    async def ListProcessScores(self, request: api.ListProcessScoresRequest, principal) -> api.ListProcessScoresResponse:
        week, now, _ = await self._service.week_or_current(principal.tenant, request.week)
        rows = await self._service.process_scores(principal.tenant, week, now, principal, request.team_id)
        response = api.ListProcessScoresResponse(week=str(week))
        for rep, score in rows:
            item = response.scores.add(
                rep_id=rep.rep_id,
                team_id=rep.team_id,
                submitted=score.submitted,
                submitted_valid=score.submitted_valid,
                quality_weight_percent=score.quality_weight * 100,
                explanation=score.explanation,
            )
            if score.quality is not None:
                item.quality_percent = round(score.quality * 100, 1)
            if score.completion is not None:
                item.completion_percent = round(score.completion * 100, 1)
            if score.score is not None:
                item.score = score.score
        return response

    @grpc_method(*MANAGING_ROLES)
    async def ListFollowUpMetrics(self, request: api.ListFollowUpMetricsRequest, principal) -> api.ListFollowUpMetricsResponse:
        week, now, _ = await self._service.week_or_current(principal.tenant, request.week)
        rows = await self._service.followup(principal.tenant, week, now, principal)
        return api.ListFollowUpMetricsResponse(metrics=[followup_to_proto(principal.tenant, r, now) for r in rows])

    @grpc_method(*MANAGING_ROLES)
    async def SetNotificationRoute(self, request: api.SetNotificationRouteRequest, principal) -> api.SetNotificationRouteResponse:
        r = request.route
        team_id = self._team_for(principal, r.team_id)
        bad = [e for e in r.email_recipients if not EMAIL.match(e)]
        if bad:
            raise InvalidCommand("route.email_recipients", f"not email addresses: {', '.join(bad)}")
        if r.dingtalk_secret and not r.dingtalk_webhook_url:
            raise InvalidCommand("route.dingtalk_secret", "is given without a dingtalk_webhook_url")
        route = NotificationRoute(
            team_id=team_id,
            wecom_webhook_url=_webhook(r.wecom_webhook_url, "route.wecom_webhook_url"),
            dingtalk_webhook_url=_webhook(r.dingtalk_webhook_url, "route.dingtalk_webhook_url"),
            dingtalk_secret=r.dingtalk_secret,
            email_recipients=tuple(r.email_recipients),
        )
        await self._service.set_route(principal.tenant, route)
        return api.SetNotificationRouteResponse(route=_route_view(route))

    @grpc_method(*MANAGING_ROLES)
    async def GetNotificationRoute(self, request: api.GetNotificationRouteRequest, principal) -> api.GetNotificationRouteResponse:
        team_id = self._team_for(principal, request.team_id)
        route = await self._service.route(principal.tenant, team_id)
        if route is None:
            raise NotFound(f"no notification route for team {team_id or '(tenant default)'}")
        return api.GetNotificationRouteResponse(route=_route_view(route), dingtalk_signed=bool(route.dingtalk_secret))

    @staticmethod
    def _team_for(principal, team_id: str) -> str:
        """Managers configure their own team; directors and admins any team and the
        tenant default (empty team id)."""
        if principal.has_any("director", "admin"):
            return team_id
        if team_id and team_id != principal.subject:
            raise Forbidden(f"you may configure your own team only, not {team_id!r}")
        return principal.subject


def _route_view(route: NotificationRoute) -> api.NotificationRoute:
    return api.NotificationRoute(
        team_id=route.team_id,
        wecom_webhook_url=route.wecom_webhook_url,
        dingtalk_webhook_url=route.dingtalk_webhook_url,
        email_recipients=list(route.email_recipients),
    )

"""The gateway's report routes against a fake ReportsService: downloads, problems."""

from __future__ import annotations

import grpc
import httpx
import pytest

from dealpulse.actions.v1 import reporting_events_pb2 as rpb
from dealpulse.actions.v1 import reports_service_pb2 as pb
from kernel.auth import mint_token
from kernel.config import Settings
from services.gateway.adapters.alert_feed import AlertFeed
from services.actions.adapters.reporting.export import CSV_TYPE, XLSX_TYPE
from services.gateway.app import create_app
from tests.unit.gateway.fakes import FakeRedis, RecordingActions


class Unavailable(grpc.aio.AioRpcError):
    def __init__(self, code, details):
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


class FakeReports:
    def __init__(self):
        self.calls = []

    async def call(self, method, request, *, token):
        self.calls.append((method, request))
        if method == "GetComplianceReport":
            if request.week == "2026-W53":
                raise Unavailable(grpc.StatusCode.INVALID_ARGUMENT, "week: 2026 has ISO weeks 1 to 53")
            if request.format == pb.REPORT_FORMAT_XLSX:
                return pb.GetComplianceReportResponse(content_type=XLSX_TYPE, filename="c.xlsx", content=b"PK", week="2026-W10")
            if request.format == pb.REPORT_FORMAT_CSV:
                return pb.GetComplianceReportResponse(content_type=CSV_TYPE, filename="c.csv", content=b"scope\n", week="2026-W10")
            return pb.GetComplianceReportResponse(content_type="application/json", filename="c.json", content=b'{"week": "2026-W10"}')
        if method == "GetMustDo":
            if request.rep_id == "carol":
                raise Unavailable(grpc.StatusCode.NOT_FOUND, "rep carol not found")
            return pb.GetMustDoResponse(list=rpb.MustDoList(rep_id="bob", day="2026-03-02", tasks=[rpb.MustDoTask(rank=1, action_id="call")]))
        raise AssertionError(method)

    async def close(self):
        pass


@pytest.fixture
async def setup():
    settings = Settings(environment="test", jwt_secret="unit-test-secret-of-at-least-32-bytes")
    reports = FakeReports()
    app = create_app(settings, actions=RecordingActions(), redis=FakeRedis(), alert_feed=AlertFeed("unused:9092"), reports=reports)
    token = mint_token(settings, subject="ann", tenant="acme", roles=["manager"])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as http:
            yield http, {"Authorization": f"Bearer {token}"}, reports


async def test_compliance_downloads_carry_their_content_type_and_file_name(setup):
    http, auth, reports = setup
    xlsx = await http.get("/v1/reports/compliance?week=2026-W10&format=xlsx", headers=auth)
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX_TYPE
    assert xlsx.headers["content-disposition"] == 'attachment; filename="c.xlsx"'
    csv = await http.get("/v1/reports/compliance?format=csv", headers=auth)
    assert csv.headers["content-type"].startswith("text/csv")
    as_json = await http.get("/v1/reports/compliance", headers=auth)
    assert as_json.json() == {"week": "2026-W10"} and "content-disposition" not in as_json.headers
    assert reports.calls[0][1].format == pb.REPORT_FORMAT_XLSX


async def test_bad_input_and_service_refusals_are_problem_documents(setup):
    http, auth, reports = setup
    calls = len(reports.calls)
    bad = await http.get("/v1/reports/compliance?week=10&format=pdf", headers=auth)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert {e["parameter"] for e in bad.json()["errors"]} == {"week", "format"}
    assert len(reports.calls) == calls  # refused before the service was asked
    refused = await http.get("/v1/reports/compliance?week=2026-W53", headers=auth)
    assert refused.status_code == 422 and "ISO weeks" in refused.json()["detail"]
    hidden = await http.get("/v1/reports/must-do?rep_id=carol", headers=auth)
    assert hidden.status_code == 404
    assert (await http.get("/v1/reports/must-do")).status_code == 401


async def test_must_do_is_served_as_json(setup):
    http, auth, _ = setup
    body = (await http.get("/v1/reports/must-do", headers=auth)).json()
    assert body["rep_id"] == "bob" and body["tasks"][0]["action_id"] == "call"

"""The weekly anomaly report on real Redis: generated office-hours edits with a
planted Friday-evening burst of grade changes, chained and stored as the chain writer
stores them; the report finds the burst with its evidence and nothing for a clean
tenant, is published once per finished week, and is served over gRPC to auditors."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import audit_service_pb2_grpc
from kernel.auth import TokenVerifier, mint_token
from kernel.clock import FixedClock
from kernel.config import Settings
from kernel.grpc_server import AuthInterceptor, bearer_metadata
from services.audit import bootstrap
from services.audit.adapters.anomaly_reports import AnomalyReports, week_name
from services.audit.adapters.store import AuditStore, LogPosition
from services.audit.domain.audit_log import AuditDraft, ChainHead, Source, append_all

pytestmark = pytest.mark.infra

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = date(2026, 3, 9)  # a Monday, far from the month's end
FRIDAY_EVENING = datetime.combine(WEEK + timedelta(days=4), time(17, 20), SHANGHAI)
AFTER_THE_WEEK = datetime.combine(WEEK + timedelta(days=7), time(9), SHANGHAI)


def generated_week(tenant: str, seed: int, *, burst: bool) -> list[AuditDraft]:
    rng = random.Random(seed)
    drafts = []
    for rep in range(10):
        for _ in range(20):
            day = WEEK + timedelta(days=rng.randrange(5))
            at = datetime.combine(day, time(9), SHANGHAI) + timedelta(minutes=rng.randrange(8 * 60))
            field = rng.choice(("contact_phone", "contact_name", "next_step"))
            drafts.append((at, f"rep-{rep}", field, f"acct-{rng.randrange(100)}"))
    if burst:
        drafts += [(FRIDAY_EVENING + timedelta(minutes=5 * i), "rep-3", "grade", f"acct-{i}") for i in range(10)]
    drafts.sort()
    return [
        AuditDraft(tenant, f"ev-{i}", actor, ("rep",), "account", entity, field, "B", "A", at, Source.API)
        for i, (at, actor, field, entity) in enumerate(drafts)
    ]


async def stored(store: AuditStore, tenant: str, drafts: list[AuditDraft], partition: int) -> None:
    records, _ = append_all(ChainHead.genesis(tenant), drafts)
    await store.apply([(r, LogPosition(partition, i)) for i, r in enumerate(records)])


class Published:
    def __init__(self) -> None:
        self.reports = []

    async def publish(self, spec, payload, *, key, tenant_id, event_time, event_id):
        self.reports.append((spec.name, key, event_id, payload))
        return None, 0, len(self.reports)


@pytest.fixture
async def tenants(redis):
    suffix = uuid.uuid4().hex[:10]
    store = AuditStore(redis, f"test.audit.record.x{suffix}.v1")
    burst, clean = f"burst{suffix}", f"clean{suffix}"
    await stored(store, burst, generated_week(burst, 1, burst=True), 0)
    await stored(store, clean, generated_week(clean, 2, burst=False), 1)
    return store, burst, clean


async def test_the_report_finds_the_planted_burst_with_evidence_and_nothing_in_clean_data(tenants, redis):
    store, burst, clean = tenants
    reports = AnomalyReports(store, redis)
    report = await reports.compute(burst, WEEK, AFTER_THE_WEEK)
    assert report.week == "2026-W11" and report.edits_examined == 210
    assert {(f.kind, f.actor_id) for f in report.findings} == {("after_hours_friday", "rep-3"), ("grade_changes", "rep-3")}
    friday = next(f for f in report.findings if f.kind == "after_hours_friday")
    assert friday.count == 10 and len(friday.evidence) == 10 and friday.share >= 0.5
    for evidence in friday.evidence:
        record = await store.record(burst, evidence.sequence)
        assert (record.actor_id, record.field, evidence.after_json) == ("rep-3", "grade", '"A"')
    assert list((await reports.compute(clean, WEEK, AFTER_THE_WEEK)).findings) == []


async def test_the_weekly_job_publishes_each_finished_week_once(tenants, redis):
    store, burst, clean = tenants
    reports = AnomalyReports(store, redis)
    published = Published()
    too_early = datetime.combine(WEEK + timedelta(days=7), time(0, 30), SHANGHAI)
    assert await reports.publish_finished_weeks(published, too_early, tenants=[burst]) == 1
    assert published.reports[0][3].week == "2026-W10"  # the week before: W11 is not over long enough
    assert await reports.publish_finished_weeks(published, AFTER_THE_WEEK, tenants=[burst, clean]) == 2
    assert await reports.publish_finished_weeks(published, AFTER_THE_WEEK + timedelta(days=1), tenants=[burst, clean]) == 0
    week11 = {key: report for name, key, _, report in published.reports if report.week == "2026-W11"}
    assert {name for name, *_ in published.reports} == {"audit.anomaly.report.v1"} and set(week11) == {burst, clean}
    assert len(week11[burst].findings) == 2 and not week11[clean].findings
    served, provisional = await reports.get(burst, "2026-W11", AFTER_THE_WEEK + timedelta(days=2))
    assert served == week11[burst] and provisional is False
    current, provisional = await reports.get(burst, "2026-W12", AFTER_THE_WEEK + timedelta(days=2))
    assert provisional is True and current.edits_examined == 0


async def test_auditors_read_the_report_over_grpc(tenants, redis):
    store, burst, _ = tenants
    settings = Settings(environment="test")
    server = grpc.aio.server(interceptors=[AuthInterceptor(TokenVerifier(settings))])
    api = bootstrap.build_api(
        bootstrap.load_policies(), None, store, FixedClock(AFTER_THE_WEEK), anomalies=AnomalyReports(store, redis)
    )
    bootstrap.register(api)(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = audit_service_pb2_grpc.AuditServiceStub(channel)

            def token(*roles):
                return bearer_metadata(mint_token(settings, subject="u1", tenant=burst, roles=list(roles)))

            answer = await stub.GetAnomalyReport(pb.GetAnomalyReportRequest(), metadata=token("director"))
            assert answer.report.week == week_name(WEEK) and answer.provisional
            assert {f.kind for f in answer.report.findings} == {"after_hours_friday", "grade_changes"}
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stub.GetAnomalyReport(pb.GetAnomalyReportRequest(), metadata=token("rep"))
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await stub.GetAnomalyReport(pb.GetAnomalyReportRequest(week="2026-11"), metadata=token("admin"))
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and bad.value.details().startswith("week")
    finally:
        await server.stop(None)

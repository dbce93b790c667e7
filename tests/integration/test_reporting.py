"""Reporting aggregates, must-do and the weekly report against real Redis, fed with
real opportunity events (no Kafka: the publisher is captured)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from dealpulse.actions.v1 import events_pb2 as events
from kernel.clock import FixedClock
from kernel.notifications import RedisOutbox
from services.actions.adapters.messages import timestamp
from services.actions.adapters.read_models import Position
from services.actions.adapters.reporting import export
from services.actions.adapters.reporting import service as reporting_service
from services.actions.adapters.reporting.aggregator import ReportingAggregator
from services.actions.adapters.reporting.service import NotificationRoute, ReportingService
from services.actions.adapters.reporting.store import ReportingStore
from services.actions.domain.policy import DEFAULT_POLICY
from services.actions.domain.reporting.calendar import Week
from services.actions.domain.templates import load_catalogue

pytestmark = pytest.mark.infra
CATALOGUE = load_catalogue()
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 Shanghai


async def policy_of(tenant):
    return DEFAULT_POLICY


async def template_of(tenant, ref):
    return CATALOGUE.resolve(ref, tenant_id=tenant)


class Published:
    def __init__(self):
        self.events = []

    async def publish(self, spec, payload, *, key, tenant_id, event_time, event_id=None):
        self.events.append((spec.name, event_id, payload))
        return None, 0, len(self.events)


@pytest.fixture
async def world(redis):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    store = ReportingStore(redis)
    outbox = RedisOutbox(redis, f"test-{tenant}")
    clock = FixedClock(MONDAY)
    published = Published()
    service = ReportingService(store, policy_of, template_of, published, outbox, clock)
    yield tenant, store, ReportingAggregator(store, policy_of, template_of), service, clock, published, outbox
    keys = [k async for k in redis.scan_iter(f"dealpulse:reporting:{tenant}:*")]
    keys += [k async for k in redis.scan_iter(f"dealpulse:notify:{{test-{tenant}}}*")]
    if keys:
        await redis.delete(*keys)
    await redis.srem("dealpulse:reporting:tenants", tenant)


def opened(tenant, opp, at, owner="bob"):
    return events.OpportunityEvent(
        tenant_id=tenant, opportunity_id=opp, actor_id=owner, occurred_at=timestamp(at), stall_threshold_seconds=172800,
        opened=events.OpportunityOpened(account_id="a", name=f"Deal {opp}", owner_id=owner, stage="lead",
                                        amount_cents=1_000_000, currency="CNY", template_id="medical_devices",
                                        template_version=1),
    )


def recorded(tenant, opp, action_id, template_action, at, valid=True):
    return events.OpportunityEvent(
        tenant_id=tenant, opportunity_id=opp, actor_id="bob", occurred_at=timestamp(at),
        action_recorded=events.ActionRecorded(action_id=action_id, kind=events.ACTION_KIND_CALL, valid=valid,
                                              template_action_id=template_action, stage="lead"),
    )


async def test_aggregates_are_idempotent_and_feed_report_must_do_and_notifications(world, monkeypatch):
    tenant, store, aggregator, service, clock, published, outbox = world
    await store.put_rep(tenant, "bob", "Bob", "ann")
    batch = [
        (opened(tenant, "o1", MONDAY), Position(0, 1)),
        (recorded(tenant, "o1", "a1", "first_contact_call", MONDAY + timedelta(hours=1)), Position(0, 2)),
        (opened(tenant, "o2", MONDAY), Position(1, 1)),
    ]
    assert await aggregator.apply_batch(batch) == 3
    assert await aggregator.apply_batch(batch) == 0  # redelivery: nothing counted twice
    for event, at in batch:
        await aggregator.on_opportunity_event(event, at)

    running = await service.compliance(tenant, Week(2026, 10), MONDAY + timedelta(hours=30), None)
    (bob,) = running.reps  # the 48 h actions are pending (open, not due yet), not missing
    assert (bob.line.tally.pending, bob.line.tally.counted, bob.line.tally.missing) == (2, 2, 1)
    assert [m.action_id for m in bob.missing_actions] == ["first_contact_call"]

    clock.advance(timedelta(hours=60))  # every lead action (24 h, 48 h) has fallen due
    report = await service.compliance(tenant, Week(2026, 10), await clock.now(), None)
    (bob,) = report.reps
    assert (bob.line.tally.due, bob.line.tally.done_on_time, bob.line.tally.missing) == (4, 1, 3)
    assert bob.rep.team_id == "ann" and bob.line.status.value == "red"
    assert {m.action_id for m in bob.missing_actions} == {"first_contact_call", "hospital_profile"}
    assert json.loads(export.to_json(report))["reps"][0]["completion_rate_percent"] == 25.0
    csv_text = export.to_csv(report).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("scope,team_id,rep_id") and "missing_action" in csv_text
    sheets = load_workbook(io.BytesIO(export.to_xlsx(report))).sheetnames
    assert sheets == ["Summary", "Reps", "Missing actions"]
    # A report over more reps than a drill-down carries is the summary: same figures,
    # the missing actions are one team's report away.
    monkeypatch.setattr(reporting_service, "DRILLDOWN_MAX_REPS", 0)
    summary = await service.compliance(tenant, Week(2026, 10), await clock.now(), None)
    assert summary.reps[0].line == bob.line and summary.reps[0].missing_actions == ()
    assert json.loads(export.to_json(summary))["missing_actions_included"] is False
    monkeypatch.setattr(reporting_service, "DRILLDOWN_MAX_REPS", 200)
    assert (await service.compliance(tenant, Week(2026, 10), await clock.now(), None, "nobody")).reps == ()
    (team_bob,) = (await service.compliance(tenant, Week(2026, 10), await clock.now(), None, "ann")).reps
    assert team_bob.missing_actions == bob.missing_actions

    await service.set_route(tenant, NotificationRoute("ann", wecom_webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k"))
    day = (await clock.now()).astimezone(DEFAULT_POLICY.zone).date()
    assert await service.morning_run(tenant, day, await clock.now()) == 1
    (name, list_id, must_do) = next(e for e in published.events if e[0] == "actions.mustdo.published.v1")
    assert list_id == must_do.list_id and must_do.rep_id == "bob" and must_do.manager_id == "ann"
    assert len(must_do.tasks) == 3 and must_do.tasks[0].explanation.startswith("score")
    assert await outbox.status(f"mustdo/{tenant}/{day}/ann/wecom") == "queued"
    # Running the morning again changes nothing: same list, same notification id.
    await service.morning_run(tenant, day, await clock.now() + timedelta(hours=1))
    lists = [e for e in published.events if e[0] == "actions.mustdo.published.v1"]
    assert {e[1] for e in lists} == {list_id} and all(e[2] == must_do for e in lists)


async def test_the_scheduler_runs_each_tenant_morning_and_monday_once(world):
    tenant, store, aggregator, service, clock, published, outbox = world
    await aggregator.apply_batch([(opened(tenant, "o1", MONDAY - timedelta(days=7)), Position(0, 1))])
    runs = await service.tick()
    assert f"{tenant} weekly report 2026-W09" in runs and any(r.startswith(f"{tenant} must-do") for r in runs)
    assert not [r for r in await service.tick() if r.startswith(tenant)]
    stored = json.loads(await store.document(tenant, "weekly", "2026-W09"))
    assert stored["week"] == "2026-W09" and stored["total"]["due"] == 2
    assert any(e[0] == "actions.followup.metrics.v1" for e in published.events)


async def test_the_morning_run_finds_exactly_the_reps_with_open_opportunities(world):
    tenant, store, aggregator, *_ = world
    other = f"t{uuid.uuid4().hex[:10]}"
    won = events.OpportunityEvent(
        tenant_id=tenant, opportunity_id="o2", actor_id="cat", occurred_at=timestamp(MONDAY),
        stage_changed=events.StageChanged(from_stage="lead", to_stage="closed_won"),
    )
    await aggregator.apply_batch([
        (opened(tenant, "o1", MONDAY, owner="bob"), Position(0, 1)),
        (opened(tenant, "o2", MONDAY, owner="cat"), Position(0, 2)),
        (won, Position(0, 3)),
        (opened(other, "o9", MONDAY, owner="dan"), Position(1, 1)),
    ])
    try:
        # cat's only opportunity is won; dan belongs to another tenant.
        assert await store.reps_with_open_opportunities(tenant) == ["bob"]
        assert await store.reps_with_open_opportunities(other) == ["dan"]
    finally:
        keys = [k async for k in store.redis.scan_iter(f"dealpulse:reporting:{other}:*")]
        await store.redis.delete(*keys)
        await store.redis.srem("dealpulse:reporting:tenants", other)

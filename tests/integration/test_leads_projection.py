"""Lead response and duplicate touches on real Redis: the projectors, the timers and the
outbox, with the broker replaced by a recording transport."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.actions.v1 import leads_pb2
from dealpulse.activity.v1 import events_pb2 as activity
from kernel.clock import FixedClock
from kernel.deadlines import DeadlineStore
from kernel.envelope import Envelope, decode
from kernel.kafka import EventPublisher
from kernel.topics import ALERT_RAISED, LEAD
from services.actions.adapters.lead_projector import LeadProjector, LeadResponseSweeper
from services.actions.adapters.lead_store import LeadStore
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.adapters.touch_detector import DuplicateTouchDetector, TouchAlertSweeper
from services.actions.domain.leads import LeadStatus

pytestmark = pytest.mark.infra

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
M = timedelta(minutes=1)


class Recorder:
    """A transport keeping what was sent, with an offset per topic."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, list]] = []

    async def send(self, topic, key, value, headers):
        self.sent.append((topic, key, value, headers))
        return 0, len(self.sent)

    def on(self, topic: str, message_type):
        return [decode(message_type, value, headers) for t, _, value, headers in self.sent if t == topic]


class Harness:
    def __init__(self, redis) -> None:
        self.tenant = f"t-{uuid.uuid4().hex[:8]}"
        self.read_model = ActionsReadModel(redis)
        self.leads = LeadStore(self.read_model)
        self.recorder = Recorder()
        self.publisher = EventPublisher(self.recorder.send, "test")
        self.timers = DeadlineStore(redis, f"test.lead.{uuid.uuid4().hex}")
        self.outbox = DeadlineStore(redis, f"test.touch.{uuid.uuid4().hex}")
        self.projector = LeadProjector(self.read_model, self.leads, self.timers, self.publisher)
        self.touches = DuplicateTouchDetector(self.read_model, self.leads, self.outbox)
        self.offset = 0

    def envelope(self, lead_id: str) -> Envelope:
        return Envelope.for_topic(LEAD, source="test", subject=f"{self.tenant}/{lead_id}", tenant_id=self.tenant, time=T0)

    async def apply(self, lead_id: str, at: datetime, *, offset: int | None = None, **change) -> Position:
        if offset is None:
            self.offset += 1
            offset = self.offset
        event = leads_pb2.LeadEvent(tenant_id=self.tenant, lead_id=lead_id, actor_id="ann", **change)
        event.occurred_at.FromDatetime(at)
        position = Position(0, offset)
        await self.projector.on_lead_event(self.envelope(lead_id), event, position)
        return position

    async def lead(self, lead_id: str):
        return (await self.leads.lead(self.tenant, lead_id))[0]

    def alerts(self):
        return [alert for _, alert in self.recorder.on(ALERT_RAISED.name, events.AlertRaised)]


async def create_and_assign(h: Harness, lead_id="l1", rep="bob", account_id=""):
    await h.apply(lead_id, T0, created=leads_pb2.LeadCreated(name="Dr. Wang", contact_phone="1", account_id=account_id))
    await h.apply(lead_id, T0, response_limit_seconds=900, assigned=leads_pb2.LeadAssigned(rep_id=rep))


async def test_an_unanswered_lead_alerts_the_rep_and_manager_once(redis):
    h = Harness(redis)
    await h.read_model.put_entity(h.tenant, "rep", "bob", {"rep_id": "bob", "manager_id": "ann"}, Position(0, 1))
    await create_and_assign(h)
    assert await h.timers.deadline_of(f"{h.tenant}/l1") == T0 + 15 * M
    sweeper = LeadResponseSweeper(h.timers, h.publisher, FixedClock(T0 + 15 * M))
    assert await sweeper.sweep() == 1
    (envelope, fired), = h.recorder.on(LEAD.name, leads_pb2.LeadEvent)
    assert fired.response_deadline_reached.rep_id == "bob"
    position = Position(0, 100)
    await h.projector.on_lead_event(envelope, fired, position)
    await h.projector.on_lead_event(envelope, fired, position)  # redelivered
    await h.projector.on_lead_event(envelope, fired, Position(0, 101))  # fired twice (lease ran out)
    (alert,) = h.alerts()
    assert (alert.kind, alert.lead_id, alert.owner_id, alert.manager_id) == (
        events.ALERT_KIND_LEAD_RESPONSE_OVERDUE, "l1", "bob", "ann"
    )
    assert (await h.lead("l1")).current.overdue
    stored = await h.read_model.message(h.tenant, "alerts", alert.alert_id, events.AlertRaised)
    assert stored == alert


async def test_a_response_disarms_the_timer_and_a_late_one_resolves_the_alert(redis):
    h = Harness(redis)
    await create_and_assign(h)
    await h.apply(
        "l1", T0 + 3 * M, min_call_duration_seconds=60,
        contacted=leads_pb2.LeadContacted(activity_id="a1", rep_id="bob", kind=leads_pb2.LEAD_CONTACT_KIND_CALL, call_duration_seconds=30),
    )
    assert await h.timers.deadline_of(f"{h.tenant}/l1") is not None  # a 30 s call is no response
    deadline = leads_pb2.LeadResponseDeadlineReached(rep_id="bob", deadline=None)
    deadline.deadline.FromDatetime(T0 + 15 * M)
    await h.apply("l1", T0 + 15 * M, response_deadline_reached=deadline)
    await h.apply(
        "l1", T0 + 20 * M, min_call_duration_seconds=60,
        contacted=leads_pb2.LeadContacted(activity_id="a2", rep_id="bob", kind=leads_pb2.LEAD_CONTACT_KIND_EMAIL),
    )
    assert await h.timers.deadline_of(f"{h.tenant}/l1") is None
    raised, resolved = h.alerts()
    assert raised.alert_id == resolved.alert_id and resolved.status == events.ALERT_STATUS_RESOLVED
    assert (await h.lead("l1")).status is LeadStatus.RESPONDED


async def test_activities_naming_the_lead_or_its_account_become_contacted_events(redis):
    h = Harness(redis)
    await create_and_assign(h, "l1", account_id="acct-1")
    call = activity.ActivityEvent(tenant_id=h.tenant, activity_id="call-1", rep_id="bob", customer_id="acct-1")
    call.occurred_at.FromDatetime(T0 + 2 * M)
    call.call.duration_seconds = 120
    await h.projector.on_activity_event(call, Position(0, 1))
    (envelope, contacted), = h.recorder.on(LEAD.name, leads_pb2.LeadEvent)
    assert (contacted.lead_id, contacted.contacted.kind, contacted.contacted.call_duration_seconds) == (
        "l1", leads_pb2.LEAD_CONTACT_KIND_CALL, 120
    )
    assert contacted.min_call_duration_seconds == 60
    await h.projector.on_activity_event(call, Position(0, 1))  # redelivered: the same event id
    ids = {e.event_id for e, _ in h.recorder.on(LEAD.name, leads_pb2.LeadEvent)}
    assert ids == {envelope.event_id}
    inbound = activity.ActivityEvent(tenant_id=h.tenant, activity_id="mail-1", rep_id="bob", lead_id="l1")
    inbound.email.direction = activity.EMAIL_DIRECTION_INBOUND
    await h.projector.on_activity_event(inbound, Position(0, 2))
    assert len(h.recorder.on(LEAD.name, leads_pb2.LeadEvent)) == 2  # nothing new


async def test_two_reps_touching_one_account_raise_one_alert_through_the_outbox(redis):
    h = Harness(redis)
    await h.read_model.put_entity(h.tenant, "account", "acct-1", {"account_id": "acct-1", "owner_id": "bob"}, Position(0, 1))

    def touch(activity_id: str, rep: str, at: datetime) -> activity.ActivityEvent:
        event = activity.ActivityEvent(tenant_id=h.tenant, activity_id=activity_id, rep_id=rep, customer_id="acct-1")
        event.occurred_at.FromDatetime(at)
        event.call.duration_seconds = 60
        return event

    # Two partitions at once (the topic is keyed by rep): the optimistic transaction
    # serialises them.
    await asyncio.gather(
        h.touches.on_activity_event(touch("a1", "bob", T0), Position(0, 5)),
        h.touches.on_activity_event(touch("a2", "carl", T0 + M), Position(1, 7)),
    )
    await h.touches.on_activity_event(touch("a2", "carl", T0 + M), Position(1, 7))  # redelivered
    await h.touches.on_activity_event(touch("a3", "dave", T0 + 2 * M), Position(2, 1))  # inside the alerted period
    sweeper = TouchAlertSweeper(h.outbox, h.publisher, FixedClock(T0))
    assert await sweeper.sweep() == 1
    assert await sweeper.sweep() == 0
    (alert,) = h.alerts()
    assert (alert.kind, alert.account_id, alert.owner_id) == (events.ALERT_KIND_DUPLICATE_TOUCH, "acct-1", "bob")
    assert sorted((t.rep_id, t.activity_id, t.kind) for t in alert.touches) == [("bob", "a1", "call"), ("carl", "a2", "call")]
    stored = await h.read_model.message(h.tenant, "alerts", alert.alert_id, events.AlertRaised)
    assert stored == alert

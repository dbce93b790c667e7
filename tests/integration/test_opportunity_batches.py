"""The projector applies a batch of opportunity events as one unit (one read, one
publish of all outputs, one transaction) with the same results as applying them one
by one: an opportunity with several events in the batch sees its own earlier results,
an unappliable event is rejected while the others are applied, and re-applying a
batch (after a crash before or after its transaction) changes and publishes nothing new.
Real Redis; outputs are recorded instead of produced."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from dealpulse.actions.v1 import events_pb2 as events
from kernel.deadlines import DeadlineStore
from kernel.envelope import Envelope
from kernel.topics import OPPORTUNITY
from services.actions.adapters.messages import timestamp
from services.actions.adapters.projector import ActionsProjector, UnprocessableEvent
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import opportunity as domain
from services.actions.domain.policy import DEFAULT_POLICY

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
THRESHOLD = timedelta(hours=48)


class Outputs:
    """A `publish_all` recording (topic, event id, payload); `fail` makes the next call
    fail after its records were sent (acks lost)."""

    def __init__(self):
        self.sent: list[tuple[str, str, object]] = []
        self.fail = False

    async def __call__(self, outgoing):
        self.sent += [(e.spec.name, e.event_id, e.payload) for e in outgoing]
        if self.fail:
            self.fail = False
            raise ConnectionError("broker away")
        return len(outgoing)


class Rig:
    def __init__(self, redis, tenant: str, timers: str):
        self.redis = redis
        self.tenant = tenant
        self.read_model = ActionsReadModel(redis)
        self.stall = DeadlineStore(redis, f"{timers}.stall")
        self.escalation = DeadlineStore(redis, f"{timers}.escalation")
        self.outputs = Outputs()
        self.projector = ActionsProjector(
            self.read_model, self.stall, publisher=None, escalation_deadlines=self.escalation, publish_all=self.outputs
        )
        self.rejected: list[tuple[Position, str]] = []

    async def reject(self, at: Position, problem: UnprocessableEvent) -> None:
        self.rejected.append((at, str(problem)))

    async def apply_batch(self, batch):
        await self.projector.on_opportunity_batch([(envelope(e), e, at) for e, at in batch], self.reject)

    async def state(self, opp: str):
        return await self.read_model.opportunity(self.tenant, opp)

    async def stored(self, kind: str, message_type):
        return {m.SerializeToString() for m in await self.read_model.messages(self.tenant, kind, message_type)}


def envelope(event: events.OpportunityEvent) -> Envelope:
    return Envelope.for_topic(
        OPPORTUNITY, source="test", subject=f"{event.tenant_id}/{event.opportunity_id}", tenant_id=event.tenant_id,
        time=T0,
    )


def opened(tenant, opp, owner="bob"):
    return events.OpportunityEvent(
        tenant_id=tenant, opportunity_id=opp, actor_id=owner, occurred_at=timestamp(T0),
        stall_threshold_seconds=int(THRESHOLD.total_seconds()),
        opened=events.OpportunityOpened(account_id="acct", name=f"Deal {opp}", owner_id=owner, stage="lead",
                                        amount_cents=1_000_000, currency="CNY"),
    )


def deadline_reached(tenant, opp):
    return events.OpportunityEvent(
        tenant_id=tenant, opportunity_id=opp, actor_id="system", occurred_at=timestamp(T0 + THRESHOLD),
        stall_deadline_reached=events.StallDeadlineReached(stage="lead", deadline=timestamp(T0 + THRESHOLD)),
    )


def handled(tenant, opp, alert_id, hours=49):
    return events.OpportunityEvent(
        tenant_id=tenant, opportunity_id=opp, actor_id="ann", occurred_at=timestamp(T0 + timedelta(hours=hours)),
        alert_handled=events.AlertHandled(alert_id=alert_id, note="called the customer"),
    )


def moved(tenant, opp, to_stage):
    return events.OpportunityEvent(
        tenant_id=tenant, opportunity_id=opp, actor_id="bob", occurred_at=timestamp(T0 + timedelta(hours=50)),
        stall_threshold_seconds=int(THRESHOLD.total_seconds()),
        stage_changed=events.StageChanged(from_stage="lead", to_stage=to_stage, all_mandatory_verified=True),
    )


def alert_id_of(tenant, opp) -> str:
    state = domain.opened(
        tenant_id=tenant, opportunity_id=opp, account_id="acct", name=f"Deal {opp}", owner_id="bob", stage="lead",
        amount_cents=1_000_000, currency="CNY", at=T0, policy=DEFAULT_POLICY.pinned_to_stall_threshold(THRESHOLD),
    ).state
    return domain.stall_alert_id(state, T0 + THRESHOLD)


@pytest.fixture
async def rigs(redis):
    timers = f"test.batch.{uuid.uuid4().hex}"
    made = []

    def make() -> Rig:
        tenant = f"batch-{uuid.uuid4().hex[:10]}"
        made.append(tenant)
        return Rig(redis, tenant, timers)

    yield make
    for tenant in made:
        keys = [k async for k in redis.scan_iter(match=f"dealpulse:actions:{tenant}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    await redis.delete(*(f"dealpulse:deadlines:{timers}.{s}:{p}" for s in ("stall", "escalation")
                         for p in ("due", "claimed", "payloads")))


async def _with_rep(rig: Rig) -> None:
    await rig.read_model.put_entity(rig.tenant, "rep", "bob", {"rep_id": "bob", "manager_id": "ann"}, Position(0, 0))


def _history(rig: Rig, opp: str):
    t = rig.tenant
    return [opened(t, opp), deadline_reached(t, opp), handled(t, opp, alert_id_of(t, opp)), moved(t, opp, "qualification")]


async def test_several_events_of_one_opportunity_in_a_batch_end_as_if_applied_one_by_one(rigs):
    batched, single = rigs(), rigs()
    for rig in (batched, single):
        await _with_rep(rig)
    await batched.apply_batch([(e, Position(0, i + 1)) for i, e in enumerate(_history(batched, "o1"))])
    for i, event in enumerate(_history(single, "o1")):
        await single.projector.on_opportunity_event(envelope(event), event, Position(0, i + 1))

    (state_b, at_b), (state_s, at_s) = await batched.state("o1"), await single.state("o1")
    assert at_b == at_s == Position(0, 4)
    assert state_b.stage == "qualification" and state_b.open_alert_id == "" and state_b.version == state_s.version
    assert state_b.stall_deadline == state_s.stall_deadline == T0 + timedelta(hours=50) + THRESHOLD
    # The alert was raised, then handled in the same batch: both versions went out, the
    # handled one is stored; the manager's to-do once; the same as one by one.
    for rig in (batched, single):
        alert_id = alert_id_of(rig.tenant, "o1")
        assert [(topic, event_id) for topic, event_id, _ in rig.outputs.sent] == [
            ("actions.alert.raised.v1", alert_id),
            ("actions.todo.created.v1", f"stall-followup-{alert_id}"),
            ("actions.alert.raised.v1", f"{alert_id}:handled:{(T0 + timedelta(hours=49)).isoformat()}"),
        ]
        raised = rig.outputs.sent[0][2]
        assert raised.status == events.ALERT_STATUS_OPEN and raised.manager_id == "ann"  # sent as it was then
        (alert,) = await rig.read_model.messages(rig.tenant, "alerts", events.AlertRaised)
        assert alert.status == events.ALERT_STATUS_HANDLED and alert.status_actor_id == "ann"
        assert len(await rig.stored("todos", events.TodoCreated)) == 1
        # Timers: the stall deadline re-armed for the new stage, the escalation disarmed.
        assert await rig.stall.deadline_of(f"{rig.tenant}/o1") == state_b.stall_deadline
        assert await rig.escalation.deadline_of(f"{rig.tenant}/o1") is None


async def test_an_unappliable_event_is_rejected_and_the_rest_of_the_batch_applied(rigs):
    rig = rigs()
    await _with_rep(rig)
    t = rig.tenant
    bad_stage = moved(t, "o1", "no_such_stage")
    batch = [
        (opened(t, "o1"), Position(0, 1)),
        (opened(t, "o2"), Position(1, 1)),
        (bad_stage, Position(0, 2)),
        (deadline_reached(t, "o1"), Position(0, 3)),
        (deadline_reached(t, "o2"), Position(1, 2)),
    ]
    await rig.apply_batch(batch)

    assert rig.rejected == [(Position(0, 2), "unknown stage 'no_such_stage'")]
    for opp, last in (("o1", Position(0, 3)), ("o2", Position(1, 2))):
        state, at = await rig.state(opp)
        assert at == last and state.stage == "lead" and state.open_alert_id == alert_id_of(t, opp)
    assert sorted(e for topic, e, _ in rig.outputs.sent if topic == "actions.alert.raised.v1") == sorted(
        alert_id_of(t, opp) for opp in ("o1", "o2")
    )
    # One at a time, the same event still raises for the caller.
    with pytest.raises(UnprocessableEvent):
        await rig.projector.on_opportunity_event(envelope(bad_stage), bad_stage, Position(0, 4))


async def test_reapplying_a_batch_whose_transaction_did_not_run_republishes_the_same_ids_then_nothing(rigs):
    rig = rigs()
    await _with_rep(rig)
    t = rig.tenant
    await rig.apply_batch([(opened(t, f"o{i}"), Position(0, i)) for i in range(3)])
    burst = [(deadline_reached(t, f"o{i}"), Position(0, 10 + i)) for i in range(3)]

    rig.outputs.fail = True  # sent, but the acknowledgements never came: nothing written
    with pytest.raises(ConnectionError):
        await rig.apply_batch(burst)
    first = [event_id for _, event_id, _ in rig.outputs.sent]
    assert len(first) == 6  # an alert and a to-do each
    assert [(await rig.state(f"o{i}"))[0].open_alert_id for i in range(3)] == ["", "", ""]

    rig.outputs.sent.clear()
    await rig.apply_batch(burst)  # redelivered: the same ids again, now written
    assert [event_id for _, event_id, _ in rig.outputs.sent] == first
    assert len(await rig.stored("alerts", events.AlertRaised)) == 3

    rig.outputs.sent.clear()
    await rig.apply_batch(burst)  # redelivered after the transaction: a no-op
    half = burst[:1] + [(deadline_reached(t, "o1"), Position(0, 11))]
    await rig.apply_batch(half)
    assert rig.outputs.sent == []
    assert [(await rig.state(f"o{i}"))[1] for i in range(3)] == [Position(0, 10 + i) for i in range(3)]
    assert len(await rig.stored("todos", events.TodoCreated)) == 3


async def test_a_batch_half_applied_by_an_earlier_delivery_applies_only_the_rest(rigs):
    rig = rigs()
    await _with_rep(rig)
    t = rig.tenant
    batch = [(e, Position(0, i + 1)) for i, e in enumerate(_history(rig, "o1"))]
    await rig.apply_batch(batch[:2])  # an earlier, smaller batch got this far
    raised = list(rig.outputs.sent)
    rig.outputs.sent.clear()

    await rig.apply_batch(batch)
    assert all(event_id not in {e for _, e, _ in raised} for _, event_id, _ in rig.outputs.sent)
    assert [topic for topic, _, _ in rig.outputs.sent] == ["actions.alert.raised.v1"]  # only the handling
    state, at = await rig.state("o1")
    assert at == Position(0, 4) and state.stage == "qualification"

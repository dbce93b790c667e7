"""The pulse worker and the dashboard replica against the real broker, on topics of
their own: verdicts and indicator changes published, duplicates and undecodable records
handled, state rebuilt after a restart without publishing twice, and two workers sharing
the partitions publish what one worker does."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dealpulse.activity.v1 import events_pb2 as activity_pb
from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from kernel.config import Settings
from kernel.envelope import Envelope, decode, deterministic_event_id
from kernel.topics import PULSE_INDICATOR_CHANGED, PULSE_VISIT_VERDICT, TopicSpec
from services.pulse.adapters.replica import PulseReplica
from services.pulse.adapters.tenant_settings import TenantSettingsStore
from services.pulse.adapters.worker import PulseWorker
from services.pulse.domain.book import EFFECTIVE_VISITS

BOOTSTRAP = Settings().kafka_bootstrap
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def spec(name: str, partitions: int) -> TopicSpec:
    return TopicSpec(name=name, owner="pulsetest", key="<tenant>/<rep>", schema="dealpulse.activity.v1.ActivityEvent",
                     summary="test", partitions=partitions, consumed=True)


@pytest.fixture
async def topics():
    suffix = uuid.uuid4().hex[:10]
    activity = spec(f"pulsetest.activity{suffix}.v1", 4)
    account = TopicSpec(name=f"pulsetest.account{suffix}.v1", owner="pulsetest", key="k",
                        schema="dealpulse.actions.v1.AccountEvent", summary="test", partitions=1)
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    names = [activity.name, activity.dead_letter.name, account.name]
    await admin.create_topics([NewTopic(activity.name, 4, 1), NewTopic(activity.dead_letter.name, 1, 1),
                               NewTopic(account.name, 1, 1)])
    yield activity, account
    await admin.delete_topics(names)
    await admin.close()


def activity(tenant: str, rep: str, n: int, kind: str, at: datetime, **extra) -> activity_pb.ActivityEvent:
    event = activity_pb.ActivityEvent(tenant_id=tenant, activity_id=deterministic_event_id(tenant, "csv", f"{rep}-{n}"),
                                      source=activity_pb.ACTIVITY_SOURCE_CSV, source_id=f"{rep}-{n}", rep_id=rep,
                                      customer_id=extra.pop("customer_id", "c1"))
    event.occurred_at.FromDatetime(at)
    if kind == "check_in":
        event.check_in.location.latitude = 31.2
        event.check_in.location.longitude = 121.4
    elif kind == "call":
        event.call.duration_seconds = extra.pop("duration", 60)
    elif kind == "note":
        event.requirement_note.text = "需求"
    return event


async def produce(topic: TopicSpec, events: list[activity_pb.ActivityEvent], garbage: int = 0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        for event in events:
            envelope = Envelope.for_topic(topic, source="test", subject=event.rep_id, tenant_id=event.tenant_id,
                                          time=event.occurred_at.ToDatetime().replace(tzinfo=UTC),
                                          event_id=event.activity_id)
            await producer.send_and_wait(topic.name, event.SerializeToString(), key=f"{event.tenant_id}/{event.rep_id}".encode(),
                                         headers=envelope.to_headers())
        for _ in range(garbage):
            await producer.send_and_wait(topic.name, b"\x00not-protobuf", key=b"x", headers=[("ce_id", b"1")])
    finally:
        await producer.stop()


def day_of_visits(tenant: str, reps: int) -> list[activity_pb.ActivityEvent]:
    events = []
    for r in range(reps):
        rep = f"rep{r}"
        at = T0 + timedelta(minutes=r)
        events += [activity(tenant, rep, 1, "check_in", at), activity(tenant, rep, 2, "note", at + timedelta(minutes=5)),
                   activity(tenant, rep, 3, "call", at + timedelta(minutes=40))]
    return events


async def run_until(worker: PulseWorker, done, timeout: float = 60.0) -> None:
    stopping = asyncio.Event()
    task = asyncio.create_task(worker.run(stopping))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done():
            assert asyncio.get_running_loop().time() < deadline, f"timed out: {worker.stats}"
            await asyncio.sleep(0.1)
    finally:
        stopping.set()
        await task


async def outputs(tenant: str, until: float = 3.0) -> tuple[list, list]:
    """Every verdict and indicator change of `tenant` on the pulse topics."""
    consumer = AIOKafkaConsumer(PULSE_VISIT_VERDICT.name, PULSE_INDICATOR_CHANGED.name, bootstrap_servers=BOOTSTRAP,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    verdicts, changes = [], []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + until
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for r in records:
                    if r.topic == PULSE_VISIT_VERDICT.name:
                        envelope, message = decode(pulse_pb.VisitVerdict, r.value, r.headers)
                        if message.tenant_id == tenant:
                            verdicts.append((envelope.event_id, message))
                    else:
                        envelope, message = decode(pulse_pb.IndicatorChanged, r.value, r.headers)
                        if message.tenant_id == tenant:
                            changes.append((envelope.event_id, message))
    finally:
        await consumer.stop()
    return verdicts, changes


def new_worker(topics, group: str) -> PulseWorker:
    activity_topic, account_topic = topics
    return PulseWorker(BOOTSTRAP, TenantSettingsStore(None), group_id=group, activity_topic=activity_topic,
                       master_topics=(account_topic,))


async def test_worker_publishes_verdicts_and_survives_a_restart(topics):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    events = day_of_visits(tenant, 3)
    await produce(topics[0], events + events[:2], garbage=1)  # two redeliveries, one undecodable record
    worker = new_worker(topics, group)
    await worker.start()
    try:
        await run_until(worker, lambda: worker.stats.consumed >= len(events) + 3 and worker.stats.ready)
    finally:
        await worker.stop()
    assert worker.stats.dead_lettered == 1
    verdicts, changes = await outputs(tenant)
    final = {m.visit_id: m for _, m in sorted(verdicts, key=lambda v: v[1].revision)}
    assert len(final) == 3
    for verdict in final.values():
        assert not verdict.effective and verdict.on_site_seconds == 40 * 60
        assert any("no geocoded address" in reason for reason in verdict.reasons)
    assert len({event_id for event_id, _ in verdicts}) == len(verdicts)
    published_before = len(verdicts) + len(changes)

    # A restart replays the partitions into fresh state and publishes nothing twice...
    again = new_worker(topics, group)
    await again.start()
    try:
        await run_until(again, lambda: again.stats.ready and again.stats.replayed >= len(events) + 3)
        assert again.stats.consumed == 0
        # ... and continues from the same state: a late-ish call is judged against the replayed visits.
        await produce(topics[0], [activity(tenant, "rep0", 4, "call", T0 + timedelta(hours=2))])
        await run_until(again, lambda: again.stats.consumed >= 1)
    finally:
        await again.stop()
    assert again.stats.dead_lettered == 0
    verdicts, changes = await outputs(tenant)
    assert len(verdicts) + len(changes) >= published_before
    assert len({event_id for event_id, _ in verdicts}) == len(verdicts), "nothing re-published after the restart"


async def test_two_workers_publish_what_one_worker_does(topics):
    events = []
    tenant_one, tenant_two = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    for tenant in (tenant_one, tenant_two):
        events = day_of_visits(tenant, 8)
        await produce(topics[0], events)
    total = 2 * len(events)
    single = new_worker(topics, f"pulsetest-{uuid.uuid4().hex[:8]}")
    await single.start()
    try:
        await run_until(single, lambda: single.stats.consumed >= total)
    finally:
        await single.stop()
    pair_group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    pair = [new_worker(topics, pair_group), new_worker(topics, pair_group)]
    for worker in pair:
        await worker.start()
    stopping = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stopping)) for w in pair]
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while sum(w.stats.consumed + w.stats.replayed for w in pair) < total or not all(w.stats.ready for w in pair):
            assert asyncio.get_running_loop().time() < deadline, [w.stats for w in pair]
            await asyncio.sleep(0.2)
    finally:
        stopping.set()
        await asyncio.gather(*tasks)
        for worker in pair:
            await worker.stop()
    assert all(w.stats.assigned for w in pair), "both workers own partitions"
    for tenant in (tenant_one, tenant_two):
        one = {v.visit_id: (v.effective, tuple(v.reasons)) for v in single.book.tenant(tenant).visits.verdicts()}
        two = {}
        for worker in pair:
            if worker.book.knows(tenant):
                two.update({v.visit_id: (v.effective, tuple(v.reasons)) for v in worker.book.tenant(tenant).visits.verdicts()})
        assert one == two and len(one) == 8
        day = T0.date()
        rep_values = {rep: single.book.indicator(tenant, EFFECTIVE_VISITS, day, rep, ()).value for rep in (f"rep{r}" for r in range(8))}
        pair_values = {}
        for worker in pair:
            for rep in worker.book.reps_seen(tenant) if worker.book.knows(tenant) else ():
                pair_values[rep] = worker.book.indicator(tenant, EFFECTIVE_VISITS, day, rep, ()).value
        assert rep_values == pair_values


async def test_replica_serves_the_same_numbers_and_fetches_raw_records(topics):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    events = day_of_visits(tenant, 2)
    await produce(topics[0], events)
    replica = PulseReplica(BOOTSTRAP, TenantSettingsStore(None), topics=(topics[1], topics[0]))
    await replica.start()
    stopping = asyncio.Event()
    task = asyncio.create_task(replica.run(stopping))
    try:
        await asyncio.wait_for(replica.caught_up.wait(), 30)
        verdicts = replica.book.tenant(tenant).visits.verdicts()
        assert len(verdicts) == 2
        refs = [replica.sources[event_id] for event_id in verdicts[0].evidence_event_ids if event_id in replica.sources]
        payloads = await replica.payloads(refs)
        assert verdicts[0].visit_id in payloads, (refs, list(payloads))
        assert payloads[verdicts[0].visit_id]["check_in"]["location"]["latitude"] == 31.2
    finally:
        stopping.set()
        await task
        await replica.stop()

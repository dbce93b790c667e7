"""The pulse worker and the dashboard replica against the real broker, on topics of
their own: verdicts and indicator changes published, duplicates and undecodable records
handled, state rebuilt after a restart without publishing twice, and two workers sharing
the partitions publish what one worker does."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError
from aiokafka.partitioner import DefaultPartitioner

from dealpulse.actions.v1 import events_pb2 as actions_pb
from dealpulse.activity.v1 import events_pb2 as activity_pb
from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from kernel.config import Settings
from kernel.envelope import Envelope, decode, deterministic_event_id
from kernel.topics import ACCOUNT, PULSE_INDICATOR_CHANGED, PULSE_VISIT_VERDICT, TopicSpec
from services.pulse.adapters.replica import PulseReplica
from services.pulse.adapters.tenant_settings import TenantSettingsStore
from services.pulse.adapters.worker import PulseWorker, reached
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


class Running:
    """Workers started and running for the block, stopped at its end; `join` starts one more
    mid-stream."""

    def __init__(self, *workers: PulseWorker) -> None:
        self._waiting = workers
        self._workers: list[PulseWorker] = []
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()

    async def __aenter__(self) -> "Running":
        for worker in self._waiting:
            await self.join(worker)
        return self

    async def join(self, worker: PulseWorker) -> None:
        await worker.start()
        self._workers.append(worker)
        self._tasks.append(asyncio.create_task(worker.run(self._stopping)))

    async def until(self, done, timeout: float = 60.0) -> None:
        """Waits for `done()` (a plain or an async predicate)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (await done() if asyncio.iscoroutinefunction(done) else done()):
            assert asyncio.get_running_loop().time() < deadline, [w.stats for w in self._workers]
            await asyncio.sleep(0.1)

    async def __aexit__(self, *exc) -> None:
        self._stopping.set()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for worker in self._workers:
                await worker.stop()


async def started_until(worker: PulseWorker, done, timeout: float = 60.0) -> None:
    """Starts the worker, runs it until `done()`, lets its batches in flight commit, stops it."""
    async with Running(worker) as running:
        await running.until(done, timeout)
        await worker.finished()


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


def new_worker(topics, group: str, **options) -> PulseWorker:
    activity_topic, account_topic = topics
    return PulseWorker(BOOTSTRAP, TenantSettingsStore(None), group_id=group, activity_topic=activity_topic,
                       master_topics=(account_topic,), **options)


async def committed_offsets(group: str, topic: TopicSpec) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in found.items() if tp.topic == topic.name}


async def end_offsets(topic: TopicSpec) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic.name, p) for p in range(topic.partitions)])
    finally:
        await consumer.stop()
    return {tp.partition: end for tp, end in ends.items() if end}


async def test_worker_publishes_verdicts_and_survives_a_restart(topics):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    events = day_of_visits(tenant, 3)
    await produce(topics[0], events + events[:2], garbage=1)  # two redeliveries, one undecodable record
    worker = new_worker(topics, group)
    await started_until(worker, lambda: worker.stats.consumed >= len(events) + 3 and worker.stats.ready)
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
    async with Running(again) as running:
        await running.until(lambda: again.stats.ready and again.stats.replayed >= len(events) + 3)
        assert again.stats.consumed == 0
        # ... and continues from the same state: a late-ish call is judged against the replayed visits.
        await produce(topics[0], [activity(tenant, "rep0", 4, "call", T0 + timedelta(hours=2))])
        await running.until(lambda: again.stats.consumed >= 1)
    assert again.stats.dead_lettered == 0
    verdicts, changes = await outputs(tenant)
    assert len(verdicts) + len(changes) >= published_before
    assert len({event_id for event_id, _ in verdicts}) == len(verdicts), "nothing re-published after the restart"


async def produce_account(topic: TopicSpec, tenant: str, account_id: str, at: datetime, **fields) -> None:
    event = actions_pb.AccountEvent(tenant_id=tenant, account_id=account_id, actor_id="ann",
                                    updated=actions_pb.AccountUpdated(**fields))
    event.occurred_at.FromDatetime(at)
    envelope = Envelope.for_topic(ACCOUNT, source="test", subject=f"{tenant}/{account_id}", tenant_id=tenant, time=at,
                                  event_id=deterministic_event_id(tenant, "account", account_id, at.isoformat()))
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic.name, event.SerializeToString(), key=f"{tenant}/{account_id}".encode(),
                                     headers=envelope.to_headers())
    finally:
        await producer.stop()


async def test_master_data_arriving_while_no_worker_runs_has_its_outputs_published(topics, output_topics):
    """A customer's address arrives while the worker is down. The next worker replays the
    master data only up to what the last one had published (its commits record it), replays
    the visits, then takes the address live: the visit it makes effective and the
    customer's completeness are published — not folded silently into the rebuilt state."""
    verdict_topic, indicator_topic = output_topics[:2]
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    await produce_account(topics[1], tenant, "c1", T0 - timedelta(days=1), name="Ruijin")
    await produce(topics[0], day_of_visits(tenant, 1))  # check-in at c1, a note, a call 40 min later

    def worker() -> PulseWorker:
        return new_worker(topics, group, verdict_topic=verdict_topic, indicator_topic=indicator_topic)

    first = worker()
    await started_until(first, lambda: first.stats.ready and first.stats.consumed >= 3)
    verdicts, _ = await latest_outputs(verdict_topic, indicator_topic)
    (before,) = verdicts.values()
    assert not before[0] and any("no geocoded address" in reason for reason in before[2])

    await produce_account(topics[1], tenant, "c1", T0 - timedelta(hours=1), latitude=31.2, longitude=121.4,
                          address="1 Nanjing Rd")
    again = worker()
    await started_until(again, lambda: again.stats.ready and again.stats.verdicts_published >= 1)
    verdicts, indicators = await latest_outputs(verdict_topic, indicator_topic)
    (after,) = verdicts.values()
    assert after[0], after  # effective: the address put the check-in inside the geofence
    assert any(scope == "customer:c1" for _, scope, _ in indicators)


async def test_an_indicator_every_worker_computes_from_master_data_is_published_by_one(topics, output_topics):
    """Both workers read all customers; each customer's completeness is published once, by
    the owner of the partition its key falls on."""
    verdict_topic, indicator_topic = output_topics[2:]
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    pair = [new_worker(topics, group, verdict_topic=verdict_topic, indicator_topic=indicator_topic) for _ in range(2)]
    customers = [f"c{n}" for n in range(12)]
    async with Running(*pair) as running:
        await running.until(lambda: all(w.stats.ready and w.stats.assigned for w in pair))
        for customer in customers:
            await produce_account(topics[1], tenant, customer, T0, name=f"Customer {customer}")
        await running.until(lambda: sum(w.stats.indicator_changes_published for w in pair) >= len(customers))
        await asyncio.sleep(1.0)  # a second publisher, if any, would have published by now
    assert sum(w.stats.indicator_changes_published for w in pair) == len(customers)
    assert all(w.stats.indicator_changes_published for w in pair), "each owns some of the customers"
    _, indicators = await latest_outputs(verdict_topic, indicator_topic)
    assert sorted(scope for _, scope, _ in indicators) == sorted(f"customer:{c}" for c in customers)


async def test_a_commit_past_the_end_of_a_partition_does_not_keep_the_worker_replaying(topics):
    """A commit beyond what the log holds (a recreated topic, an operator's reset, records
    gone with retention) is replayed up to what is there; the worker becomes ready and
    takes master data live."""
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    await produce(topics[0], day_of_visits(tenant, 2))
    ends = await end_offsets(topics[0])
    resetting = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False)
    await resetting.start()
    try:
        past = {TopicPartition(topics[0].name, p): end + 100 for p, end in ends.items()}
        resetting.assign(list(past))
        await resetting.commit(past)
    finally:
        await resetting.stop()
    worker = new_worker(topics, group)
    await started_until(worker, lambda: worker.stats.ready, timeout=30)
    assert worker.stats.replayed == sum(ends.values())


async def test_a_restart_never_moves_a_committed_offset_back(topics):
    """After a restart the worker replays each partition up to its committed offset while other
    partitions already run live; a batch mixing both commits only the live partitions, so no
    committed offset falls back behind records already published (which a later restart would
    publish again, and which would show as lag that never drains)."""
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    partitions = list(range(topics[0].partitions))
    partition_of = {rep: DefaultPartitioner()(f"{tenant}/{rep}".encode(), partitions, partitions)
                    for rep in (f"rep{r}" for r in range(40))}
    busy = "rep0"
    quiet = next(rep for rep, p in partition_of.items() if p != partition_of[busy])
    # A long history on one partition (replayed over many batches), a short one on another.
    history = [activity(tenant, busy, n, "call", T0 + timedelta(minutes=n)) for n in range(400)]
    history += [activity(tenant, quiet, n, "call", T0 + timedelta(minutes=n)) for n in range(3)]
    await produce(topics[0], history)
    first = new_worker(topics, group, batch_records=50)
    await started_until(first, lambda: first.stats.consumed >= len(history))
    ends = await end_offsets(topics[0])
    assert len(ends) > 1 and await committed_offsets(group, topics[0]) == ends
    later = [activity(tenant, quiet, 100 + n, "call", T0 + timedelta(hours=3, minutes=n)) for n in range(5)]
    await produce(topics[0], later)
    again = new_worker(topics, group, batch_records=50)
    await started_until(again, lambda: again.stats.ready and again.stats.consumed >= len(later))
    assert again.stats.replayed == len(history)
    assert await committed_offsets(group, topics[0]) == await end_offsets(topics[0])


async def test_verdicts_held_while_input_waits_are_published_once_when_the_worker_is_idle(topics, output_topics):
    """Each record is its own batch and the hold never times out: a visit's check-in, note and
    the call that ends it reach the topic as one verdict, published (and the offsets
    committed) once the worker has nothing more to read. Publishing per batch gave three."""
    verdict_topic, indicator_topic = output_topics[:2]
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    events = day_of_visits(tenant, 3)
    await produce(topics[0], events)
    worker = new_worker(topics, group, verdict_topic=verdict_topic, indicator_topic=indicator_topic,
                        batch_records=1, verdict_interval=3600.0, clock=lambda: 0.0)
    await started_until(worker, lambda: worker.stats.ready and worker.stats.verdicts_published >= 3)
    assert worker.stats.consumed == len(events)
    assert await committed_offsets(group, topics[0]) == await end_offsets(topics[0])
    published = await verdict_records(verdict_topic)
    assert sorted(visit for visit, _ in published) == sorted({visit for visit, _ in published})
    assert len(published) == 3 < len(events)
    verdicts, _ = await latest_outputs(verdict_topic, indicator_topic)
    assert all(on_site == 40 * 60 for _, _, _, on_site in verdicts.values()), "as each visit ended up"


async def test_held_verdicts_that_fail_to_publish_commit_nothing_and_the_next_worker_publishes_them(
    topics, output_topics
):
    """The broker is lost when the held verdicts go out: the worker stops with the error, none
    of the offsets they wait for is committed, and the next worker publishes them."""
    verdict_topic, indicator_topic = output_topics[:2]
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    events = day_of_visits(tenant, 2)
    await produce(topics[0], events)

    class BrokerLostForVerdicts(PulseWorker):
        async def _append(self, changes):
            if changes.verdicts:
                raise KafkaConnectionError("broker lost")
            return await super()._append(changes)

    failing = BrokerLostForVerdicts(
        BOOTSTRAP, TenantSettingsStore(None), group_id=group, activity_topic=topics[0], master_topics=(topics[1],),
        verdict_topic=verdict_topic, indicator_topic=indicator_topic, verdict_interval=3600.0, clock=lambda: 0.0,
    )
    with pytest.raises(KafkaConnectionError):
        async with Running(failing) as running:
            await running.until(lambda: failing.stats.consumed >= len(events))
    assert await committed_offsets(group, topics[0]) == {}
    assert await verdict_records(verdict_topic) == []

    again = new_worker(topics, group, verdict_topic=verdict_topic, indicator_topic=indicator_topic)
    await started_until(again, lambda: again.stats.ready and again.stats.verdicts_published >= 2)
    assert await committed_offsets(group, topics[0]) == await end_offsets(topics[0])
    verdicts, _ = await latest_outputs(verdict_topic, indicator_topic)
    assert len(verdicts) == 2 and all(on_site == 40 * 60 for _, _, _, on_site in verdicts.values())


async def records_of(*topics: TopicSpec) -> list:
    """Every record on the topics, from the beginning to the end they had when asked."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        partitions = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = {tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end}
        while not await reached(consumer, ends):
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found += records
    finally:
        await consumer.stop()
    return found


async def verdict_records(topic: TopicSpec) -> list[tuple[str, int]]:
    """(visit, revision) of every record on a verdict topic."""
    verdicts = [decode(pulse_pb.VisitVerdict, r.value, r.headers)[1] for r in await records_of(topic)]
    return [(v.visit_id, v.revision) for v in verdicts]


async def test_two_workers_publish_what_one_worker_does(topics):
    events = []
    tenant_one, tenant_two = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    for tenant in (tenant_one, tenant_two):
        events = day_of_visits(tenant, 8)
        await produce(topics[0], events)
    total = 2 * len(events)
    single = new_worker(topics, f"pulsetest-{uuid.uuid4().hex[:8]}")
    await started_until(single, lambda: single.stats.consumed >= total)
    pair_group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    pair = [new_worker(topics, pair_group), new_worker(topics, pair_group)]
    async with Running(*pair) as running:
        await running.until(
            lambda: sum(w.stats.consumed + w.stats.replayed for w in pair) >= total and all(w.stats.ready for w in pair),
            timeout=90,
        )
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


async def latest_outputs(verdict_topic: TopicSpec, indicator_topic: TopicSpec) -> tuple[dict, dict]:
    """What a consumer keeping the latest record per visit and per indicator scope holds."""
    verdicts, indicators = {}, {}
    for r in await records_of(verdict_topic, indicator_topic):
        if r.topic == verdict_topic.name:
            _, v = decode(pulse_pb.VisitVerdict, r.value, r.headers)
            verdicts[v.visit_id] = (v.effective, v.decided, tuple(v.reasons), v.on_site_seconds)
        else:
            _, i = decode(pulse_pb.IndicatorChanged, r.value, r.headers)
            indicators[(i.indicator, i.scope, i.window)] = (i.value, i.state)
    return verdicts, indicators


@pytest.fixture
async def output_topics():
    suffix = uuid.uuid4().hex[:10]
    made = [
        TopicSpec(name=f"pulsetest.{kind}{suffix}.{n}.v1", owner="pulsetest", key="k", schema=schema, summary="test",
                  partitions=2)
        for n in ("one", "pair")
        for kind, schema in (("verdicts", PULSE_VISIT_VERDICT.schema), ("indicators", PULSE_INDICATOR_CHANGED.schema))
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    await admin.create_topics([NewTopic(t.name, t.partitions, 1) for t in made])
    yield made
    await admin.delete_topics([t.name for t in made])
    await admin.close()


async def test_a_worker_joining_mid_stream_changes_nothing_a_consumer_ends_with(topics, output_topics):
    """Scale-out as it happens: one worker runs, a second joins while events keep coming (the
    group rebalances, both rebuild from the log and continue). The latest verdict per visit
    and value per indicator scope the pair published equal one worker's."""
    one_verdicts, one_indicators, pair_verdicts, pair_indicators = output_topics
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    days = [[] for _ in range(4)]
    for d, events in enumerate(days):
        for r in range(8):
            at = T0 + timedelta(days=d, minutes=r)
            for v in range(r % 3):  # reps with 0, 1 and 2 visits a day: green and yellow streaks
                start = at + timedelta(hours=2 * v)
                events += [activity(tenant, f"rep{r}", 10 * d + 3 * v, "check_in", start),
                           activity(tenant, f"rep{r}", 10 * d + 3 * v + 1, "note", start + timedelta(minutes=5)),
                           activity(tenant, f"rep{r}", 10 * d + 3 * v + 2, "call", start + timedelta(minutes=40))]
    everything = [e for events in days for e in events]
    await produce(topics[0], everything)

    def worker(group: str, source: TopicSpec, verdicts: TopicSpec, indicators: TopicSpec) -> PulseWorker:
        return PulseWorker(BOOTSTRAP, TenantSettingsStore(None), group_id=group, activity_topic=source,
                           master_topics=(topics[1],), verdict_topic=verdicts, indicator_topic=indicators,
                           batch_records=10)

    single = worker(f"pulsetest-{uuid.uuid4().hex[:8]}", topics[0], one_verdicts, one_indicators)
    await started_until(single, lambda: single.stats.consumed >= len(everything))

    # The pair's topic: the first half before the second worker joins, the rest after.
    group = f"pulsetest-{uuid.uuid4().hex[:8]}"
    halfway = sum(len(events) for events in days[:2])
    pair_topic = spec(f"pulsetest.activity{uuid.uuid4().hex[:10]}.v1", 4)
    first, second = (worker(group, pair_topic, pair_verdicts, pair_indicators) for _ in range(2))
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    await admin.create_topics([NewTopic(pair_topic.name, 4, 1)])
    try:
        await produce(pair_topic, everything[:halfway])

        async def settled() -> bool:
            return all(w.stats.assigned and w.stats.ready for w in (first, second)) and (
                await committed_offsets(group, pair_topic) == await end_offsets(pair_topic)
            )

        async with Running(first) as running:
            await running.until(lambda: first.stats.consumed >= halfway)
            await running.join(second)
            await produce(pair_topic, everything[halfway:])
            await running.until(settled)
    finally:
        await admin.delete_topics([pair_topic.name])
        await admin.close()
    assert second.stats.replayed or second.stats.consumed, "the second worker took partitions over"
    expected = await latest_outputs(one_verdicts, one_indicators)
    assert len(expected[0]) == sum(r % 3 for r in range(8)) * len(days)
    assert {state for _, state in expected[1].values()} >= {pulse_pb.HEALTH_STATE_GREEN, pulse_pb.HEALTH_STATE_YELLOW}
    assert await latest_outputs(pair_verdicts, pair_indicators) == expected


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

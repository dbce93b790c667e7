"""`kernel.batch_consumer.BatchConsumer` on the real broker: a batch's offsets are
committed only after it was applied, a crash mid-batch redelivers it (and for the
actions projector that redelivery changes and publishes nothing), and a new group
starts where the Faust group it replaces left off. Each test has its own topic and
groups."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from kafka.admin import KafkaAdminClient, NewTopic

from dealpulse.actions.v1 import events_pb2 as events
from kernel.batch_consumer import BatchConsumer
from kernel.config import Settings
from kernel.envelope import decode
from services.actions.adapters.read_models import Position
from tests.integration.test_opportunity_batches import deadline_reached, envelope, opened, rigs  # noqa: F401 - fixture

BOOTSTRAP = Settings(environment="test").kafka_bootstrap
PARTITIONS = 2


@pytest_asyncio.fixture
async def topic():
    name = f"test.batch-consumer.x{uuid.uuid4().hex[:10]}.v1"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])
    try:
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()


async def _produce(topic: str, records: list[tuple[int, bytes, list]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        for partition, value, headers in records:
            await producer.send_and_wait(topic, value, key=b"k", partition=partition, headers=headers)
    finally:
        await producer.stop()


async def _committed(group: str, topic: str) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(PARTITIONS)}
    finally:
        await consumer.stop()


async def _commit_as(group: str, topic: str, offsets: dict[int, int]) -> None:
    """Offsets committed by a consumer outside the group's membership, as the Faust group
    of a deployment that ran the agent left them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in offsets])
        await consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "") for p, o in offsets.items()})
    finally:
        await consumer.stop()


class Running:
    """A started BatchConsumer whose run() is a task; `stop` cancels it and stops it."""

    def __init__(self, topic: str, group: str, apply, **options) -> None:
        self.consumer = BatchConsumer(BOOTSTRAP, group, [topic], apply, max_records=100, client_id="test", **options)
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> "Running":
        await self.consumer.start()
        self.task = asyncio.create_task(self.consumer.run())
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()


async def _until(condition, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_batch_is_committed_only_after_it_is_applied(topic):
    group = f"test-bc-{uuid.uuid4().hex[:8]}"
    await _produce(topic, [(i % PARTITIONS, f"r{i}".encode(), []) for i in range(10)])
    release = asyncio.Event()
    applied: list[tuple[int, int]] = []

    async def apply(records):
        await release.wait()
        applied.extend((r.partition, r.offset) for r in records)

    async with Running(topic, group, apply) as running:
        await _until(lambda: running.consumer.ready)
        await asyncio.sleep(0.5)  # the batch is fetched and held in apply
        assert await _committed(group, topic) == {0: None, 1: None}
        release.set()
        await _until(lambda: len(applied) == 10)
        await _until(lambda: running.consumer.applied == 10)
        assert sorted(applied) == [(p, o) for p in range(PARTITIONS) for o in range(5)]
        assert await _committed(group, topic) == {0: 5, 1: 5}


async def test_a_crash_mid_batch_redelivers_the_batch_and_nothing_after_a_commit(topic):
    group = f"test-bc-{uuid.uuid4().hex[:8]}"
    await _produce(topic, [(0, f"r{i}".encode(), []) for i in range(4)])
    seen: list[list[int]] = []

    async def crashing(records):
        seen.append([r.offset for r in records])
        raise RuntimeError("killed mid-batch")

    async with Running(topic, group, crashing) as running:
        await _until(lambda: running.task.done())
        with pytest.raises(RuntimeError):
            running.task.result()
    assert await _committed(group, topic) == {0: None, 1: None}

    async def recording(records):
        seen.append([r.offset for r in records])

    async with Running(topic, group, recording) as running:
        await _until(lambda: running.consumer.applied == 4)
    assert seen[0] == seen[-1] == [0, 1, 2, 3]
    assert await _committed(group, topic) == {0: 4, 1: None}

    async with Running(topic, group, recording) as running:
        await _until(lambda: running.consumer.ready)
        await asyncio.sleep(0.5)
    assert len(seen) == 2  # committed: not delivered again


async def test_a_rebalance_waits_for_the_batch_in_flight_so_no_record_is_applied_twice(topic):
    group = f"test-bc-{uuid.uuid4().hex[:8]}"
    await _produce(topic, [(p, f"r{i}".encode(), []) for i in range(3) for p in range(PARTITIONS)])
    release = asyncio.Event()
    applied: list[tuple[str, int, int]] = []

    def applying(who: str):
        async def apply(records):
            if who == "first":
                await release.wait()
            applied.extend((who, r.partition, r.offset) for r in records)

        return apply

    async with Running(topic, group, applying("first")) as first:
        await _until(lambda: first.consumer.ready)
        await asyncio.sleep(0.5)  # both partitions' records are held in apply
        async with Running(topic, group, applying("second")) as second:
            await asyncio.sleep(1.0)
            assert not second.consumer.ready  # the group waits for the batch in flight
            release.set()
            await _until(lambda: first.consumer.ready and second.consumer.ready)
            await _produce(topic, [(p, b"later", []) for p in range(PARTITIONS)])
            await _until(lambda: len(applied) == 8)
            await asyncio.sleep(0.3)
    assert sorted((p, o) for _, p, o in applied) == [(p, o) for p in range(PARTITIONS) for o in range(4)]
    assert {(w, p, o) for w, p, o in applied if o < 3} == {("first", p, o) for p in range(PARTITIONS) for o in range(3)}


async def test_a_new_group_starts_where_the_seed_group_left_off_then_keeps_its_own_offsets(topic):
    group, faust_group = f"test-bc-{uuid.uuid4().hex[:8]}", f"test-faust-{uuid.uuid4().hex[:8]}"
    await _produce(topic, [(p, f"r{i}".encode(), []) for i in range(5) for p in range(PARTITIONS)])
    await _commit_as(faust_group, topic, {0: 3})  # partition 1 was never committed: from the beginning
    applied: list[tuple[int, int]] = []

    async def apply(records):
        applied.extend((r.partition, r.offset) for r in records)

    async with Running(topic, group, apply, seed_group=faust_group) as running:
        await _until(lambda: running.consumer.applied == 7)
        await asyncio.sleep(0.3)
    assert sorted(applied) == [(0, 3), (0, 4)] + [(1, o) for o in range(5)]
    assert await _committed(group, topic) == {0: 5, 1: 5}

    await _commit_as(faust_group, topic, {0: 0, 1: 0})
    await _produce(topic, [(0, b"later", [])])
    async with Running(topic, group, apply, seed_group=faust_group) as running:
        await _until(lambda: running.consumer.applied == 1)
        await asyncio.sleep(0.3)
    assert applied[7:] == [(0, 5)]


async def test_the_projector_finds_a_batch_redelivered_after_a_crash_before_its_commit_applied(topic, rigs):  # noqa: F811
    rig = rigs()
    await rig.read_model.put_entity(rig.tenant, "rep", "bob", {"rep_id": "bob", "manager_id": "ann"}, Position(0, 0))
    burst = [opened(rig.tenant, f"o{i}") for i in range(3)] + [deadline_reached(rig.tenant, f"o{i}") for i in range(3)]
    await _produce(topic, [(0, e.SerializeToString(), envelope(e).to_headers()) for e in burst])
    group = f"test-bc-{uuid.uuid4().hex[:8]}"

    async def apply_then_crash(records):
        await rig.projector.on_opportunity_batch(_items(records), rig.reject)
        raise RuntimeError("killed after the transaction, before the commit")

    async with Running(topic, group, apply_then_crash) as running:
        await _until(lambda: running.task.done())
    first_delivery = list(rig.outputs.sent)
    assert sum(1 for name, _, _ in first_delivery if name == "actions.alert.raised.v1") == 3

    async def apply(records):
        await rig.projector.on_opportunity_batch(_items(records), rig.reject)

    async with Running(topic, group, apply) as running:
        await _until(lambda: running.consumer.applied == len(burst))
    assert rig.outputs.sent == first_delivery  # nothing re-published
    assert rig.rejected == []


def _items(records):
    items = []
    for record in records:
        envelope_, payload = decode(events.OpportunityEvent, record.value, record.headers)
        items.append((envelope_, payload, Position(record.partition, record.offset)))
    return items

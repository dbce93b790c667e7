"""The audit chain writer on real Kafka and Redis: entries in, hash-chained records on
the log and in the store; redeliveries recorded once; a crash or a failed store between
writing and storing recovered from the log; the next batch waiting for the previous
one's background store; a tampered store caught by verify.

Each test writes to a topic of its own (a copy of audit.record.v1's shape), so a
running audit worker never shares its partitions."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from kernel.config import Settings
from kernel.envelope import Envelope
from kernel.topics import AUDIT_INTAKE
from services.audit.adapters.chainer import AuditChainer
from services.audit.adapters.kafka_log import ChainWorker, KafkaAuditLog, new_producer
from services.audit.adapters.messages import entry_from_draft
from services.audit.adapters.store import AuditStore
from services.audit.domain.audit_log import AuditDraft, AuditQuery, ProblemKind, Source, verify

T0 = datetime(2026, 3, 6, 17, 30, tzinfo=timezone.utc)
PARTITION = 1


@pytest.fixture
def log_topic():
    settings = Settings()
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    name = f"test.audit.record.{uuid.uuid4().hex[:10]}.v1"
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    yield name
    admin.delete_topics([name])
    admin.close()


@pytest.fixture
async def kafka_log(log_topic):
    settings = Settings()
    producer = new_producer(settings.kafka_bootstrap, "test-audit-chain")
    await producer.start()
    audit_log = KafkaAuditLog(producer, settings.kafka_bootstrap, log_topic)
    await audit_log.start()
    yield audit_log
    await audit_log.stop()
    await producer.stop()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def entries(tenant: str, count: int, *, start: int = 0):
    return [
        entry_from_draft(
            AuditDraft(
                tenant_id=tenant,
                event_id=f"ev-{i}",
                actor_id="bob",
                actor_roles=("rep",),
                entity_type="account",
                entity_id=f"acct-{i % 3}",
                field="grade",
                before="B",
                after="A",
                occurred_at=T0 + timedelta(minutes=i),
                source=Source.API,
                reason=f"change {i}",
            )
        )
        for i in range(start, start + count)
    ]


async def stored_chain(store: AuditStore, tenant: str):
    return [r async for r in store.records_in_order(tenant)]


async def test_entries_become_a_verified_chain_in_the_store_and_on_the_log(redis, kafka_log, log_topic, tenant):
    store = AuditStore(redis, log_topic)
    chainer = AuditChainer(store, kafka_log, kafka_log)
    result = await chainer.chain(PARTITION, entries(tenant, 5))
    assert [r.sequence for r in result.records] == [1, 2, 3, 4, 5]
    assert await chainer.settle(PARTITION) == 0  # its own records: stored, not caught up
    head = await store.head(tenant)
    assert (head.sequence, head.hash) == (5, result.records[-1].hash)
    assert verify(await stored_chain(store, tenant), tenant, anchor=head).ok

    # The log holds the same records: replaying it gives the same chain.
    replayed = [r async for r, _ in kafka_log.read(PARTITION, 0, await kafka_log.end_offset(PARTITION))]
    assert [r for r in replayed if r.tenant_id == tenant] == result.records

    # Queries go through the indexes and agree with the domain's filter.
    by_entity = await store.query(AuditQuery(tenant, entity_type="account", entity_id="acct-1"), limit=10)
    assert [r.sequence for r in by_entity] == [2, 5]
    window = AuditQuery(tenant, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [r.sequence for r in await store.query(window, limit=10)] == [2, 3]
    assert [r.sequence for r in await store.query(AuditQuery(tenant, actor_id="bob"), after_sequence=3, limit=10)] == [4, 5]


async def test_a_redelivered_entry_is_recorded_once(redis, kafka_log, log_topic, tenant):
    chainer = AuditChainer(AuditStore(redis, log_topic), kafka_log, kafka_log)
    await chainer.chain(PARTITION, entries(tenant, 3))
    again = await chainer.chain(PARTITION, entries(tenant, 3) + entries(tenant, 2, start=3) + entries(tenant, 1, start=4))
    assert again.duplicates == 4
    assert [r.sequence for r in again.records] == [4, 5]
    await chainer.settle(PARTITION)


async def test_tenants_sharing_a_partition_get_a_chain_each_and_their_redeliveries_dropped(
    redis, kafka_log, log_topic, tenant
):
    store = AuditStore(redis, log_topic)
    chainer = AuditChainer(store, kafka_log, kafka_log)
    other = tenant + "-b"
    await chainer.chain(PARTITION, entries(tenant, 2) + entries(other, 1))
    # The same event ids in both tenants are different facts; each tenant's own repeat is dropped.
    mixed = [e for pair in zip(entries(tenant, 4), entries(other, 4)) for e in pair]
    result = await chainer.chain(PARTITION, mixed)
    assert result.duplicates == 3
    assert [(r.tenant_id, r.sequence) for r in result.records] == [
        (other, 2), (tenant, 3), (other, 3), (tenant, 4), (other, 4)
    ]
    await chainer.settle(PARTITION)
    for name, length in ((tenant, 4), (other, 4)):
        chain = await stored_chain(store, name)
        assert [r.event_id for r in chain] == [f"ev-{i}" for i in range(length)]
        assert verify(chain, name, anchor=await store.head(name)).ok


async def test_applying_records_the_store_already_has_applies_only_the_rest(redis, kafka_log, log_topic, tenant):
    store = AuditStore(redis, log_topic)
    chainer = AuditChainer(store, kafka_log, kafka_log)
    await chainer.chain(PARTITION, entries(tenant, 5))
    await chainer.settle(PARTITION)
    on_log = [placed async for placed in kafka_log.read(PARTITION, 0, await kafka_log.end_offset(PARTITION))]
    assert len(on_log) == 5
    other = AuditStore(redis, log_topic + ".replay")
    assert await other.apply(on_log[:3]) == 3
    # A replay overlapping what is stored: the script refuses it, the overlap is skipped.
    assert await other.apply(on_log) == 2
    assert await other.apply(on_log) == 0
    assert [r async for r in other.records_in_order(tenant)] == [r for r, _ in on_log]
    assert await other.log_offset(PARTITION) == on_log[-1][1].offset


async def test_records_written_before_a_crash_are_recovered_from_the_log_not_written_twice(
    redis, kafka_log, log_topic, tenant
):
    store = AuditStore(redis, log_topic)

    class CrashAfterWriting:
        async def send(self, partition, records, entries):
            await kafka_log.write(partition, records, entries)
            raise ConnectionError("the process died before storing")

    crashing = AuditChainer(store, CrashAfterWriting(), kafka_log)
    with pytest.raises(ConnectionError):
        await crashing.chain(PARTITION, entries(tenant, 3))
    assert (await store.head(tenant)).sequence == 0

    # The restarted writer sees the intake again (offsets were not committed).
    restarted = AuditChainer(store, kafka_log, kafka_log)
    result = await restarted.chain(PARTITION, entries(tenant, 4))
    assert result.recovered >= 3 and result.duplicates == 3
    assert [r.sequence for r in result.records] == [4]
    await restarted.settle(PARTITION)
    chain = await stored_chain(store, tenant)
    assert [r.sequence for r in chain] == [1, 2, 3, 4]
    assert verify(chain, tenant, anchor=await store.head(tenant)).ok
    on_log = [r async for r, _ in kafka_log.read(PARTITION, 0, await kafka_log.end_offset(PARTITION)) if r.tenant_id == tenant]
    assert [r.sequence for r in on_log] == [1, 2, 3, 4]


async def test_a_batch_chained_in_chunks_is_one_chain_in_the_store_and_on_the_log(redis, kafka_log, log_topic, tenant):
    store = AuditStore(redis, log_topic)
    chunked = AuditChainer(store, kafka_log, kafka_log, chunk=2)
    await chunked.chain(PARTITION, entries(tenant, 2))
    result = await chunked.chain(PARTITION, entries(tenant, 2) + entries(tenant, 5, start=2))
    assert result.duplicates == 2 and [r.sequence for r in result.records] == [3, 4, 5, 6, 7]
    await chunked.settle(PARTITION)
    chain = await stored_chain(store, tenant)
    assert [r.sequence for r in chain] == [1, 2, 3, 4, 5, 6, 7]
    assert verify(chain, tenant, anchor=await store.head(tenant)).ok
    on_log = [r async for r, _ in kafka_log.read(PARTITION, 0, await kafka_log.end_offset(PARTITION)) if r.tenant_id == tenant]
    assert on_log == chain


async def test_a_chunk_that_fails_to_store_is_recovered_from_the_log_by_the_next_batch(
    redis, kafka_log, log_topic, tenant
):
    store = AuditStore(redis, log_topic)

    class StoreFailingOnce(AuditStore):
        calls = 0

        async def apply(self, placed, canonicals=None):
            StoreFailingOnce.calls += 1
            if StoreFailingOnce.calls == 2:  # the second chunk
                raise ConnectionError("Redis went away")
            return await super().apply(placed, canonicals)

    failing = AuditChainer(StoreFailingOnce(redis, log_topic), kafka_log, kafka_log, chunk=2)
    # Every record is on the log, whatever storing them did: the batch is done.
    written = await failing.chain(PARTITION, entries(tenant, 6))
    assert [r.sequence for r in written.records] == [1, 2, 3, 4, 5, 6]

    # The next batch starts by settling: the failed store's records come from the log.
    retried = await failing.chain(PARTITION, entries(tenant, 7))
    assert retried.recovered == 4 and retried.duplicates == 6
    assert [r.sequence for r in retried.records] == [7]
    await failing.settle(PARTITION)
    chain = await stored_chain(store, tenant)
    assert [r.sequence for r in chain] == [1, 2, 3, 4, 5, 6, 7]
    assert verify(chain, tenant, anchor=await store.head(tenant)).ok


class StoreFailingFirst(AuditStore):
    """An AuditStore whose first `apply` fails as if Redis went away."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    async def apply(self, placed, canonicals=None):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("Redis went away")
        return await super().apply(placed, canonicals)


async def test_a_failed_last_store_is_caught_up_by_settle(redis, kafka_log, log_topic, tenant):
    store = AuditStore(redis, log_topic)
    chainer = AuditChainer(StoreFailingFirst(redis, log_topic), kafka_log, kafka_log)
    await chainer.chain(PARTITION, entries(tenant, 3))
    assert chainer.unsettled() == [PARTITION]
    assert await chainer.settle(PARTITION) == 3
    assert chainer.unsettled() == []
    chain = await stored_chain(store, tenant)
    assert [r.sequence for r in chain] == [1, 2, 3]
    assert verify(chain, tenant, anchor=await store.head(tenant)).ok


async def test_the_next_batch_waits_for_the_last_chunk_of_the_previous_one_to_be_stored(
    redis, kafka_log, log_topic, tenant
):
    stored = AuditStore(redis, log_topic)
    released = asyncio.Event()

    class SlowStore(AuditStore):
        async def apply(self, placed, canonicals=None):
            await released.wait()
            return await super().apply(placed, canonicals)

    chainer = AuditChainer(SlowStore(redis, log_topic), kafka_log, kafka_log, chunk=2)
    first = await chainer.chain(PARTITION, entries(tenant, 3))
    # On the log and acknowledged, not stored yet.
    assert [r.sequence for r in first.records] == [1, 2, 3]
    assert (await stored.head(tenant)).sequence == 0
    second = asyncio.create_task(chainer.chain(PARTITION, entries(tenant, 3) + entries(tenant, 2, start=3)))
    await asyncio.sleep(0.2)
    assert not second.done()  # it cannot read heads before the first batch is stored
    released.set()
    result = await second
    assert result.duplicates == 3 and result.recovered == 0
    assert [r.sequence for r in result.records] == [4, 5]
    await chainer.settle(PARTITION)
    chain = await stored_chain(stored, tenant)
    assert [r.sequence for r in chain] == [1, 2, 3, 4, 5]
    assert verify(chain, tenant, anchor=await stored.head(tenant)).ok


async def test_an_entry_no_chain_can_hold_is_rejected_and_the_rest_are_chained(redis, kafka_log, log_topic, tenant):
    chainer = AuditChainer(AuditStore(redis, log_topic), kafka_log, kafka_log)
    batch = entries(tenant, 3)
    batch[1].after_json = "1.5"
    result = await chainer.chain(PARTITION, batch)
    assert [index for index, _ in result.rejected] == [1]
    assert "float" in result.rejected[0][1]
    assert [r.event_id for r in result.records] == ["ev-0", "ev-2"]
    await chainer.settle(PARTITION)


async def test_verify_names_the_first_edited_or_missing_record_of_the_store(redis, kafka_log, log_topic, tenant):
    store = AuditStore(redis, log_topic)
    chainer = AuditChainer(store, kafka_log, kafka_log)
    await chainer.chain(PARTITION, entries(tenant, 5))
    await chainer.settle(PARTITION)
    key = store.records_key(tenant)

    original = await redis.hget(key, "3")
    tampered = json.loads(original)
    tampered["after"] = "C"
    await redis.hset(key, "3", json.dumps(tampered))
    report = verify(await stored_chain(store, tenant), tenant, anchor=await store.head(tenant))
    assert (report.problem.kind, report.problem.sequence, report.checked) == (ProblemKind.EDITED, 3, 2)

    await redis.hset(key, "3", "not json at all")
    report = verify(await stored_chain(store, tenant), tenant, anchor=await store.head(tenant))
    assert (report.problem.kind, report.problem.sequence) == (ProblemKind.EDITED, 3)

    await redis.hset(key, "3", original)
    second = await redis.hget(key, "2")
    await redis.hdel(key, "2")
    report = verify(await stored_chain(store, tenant), tenant, anchor=await store.head(tenant))
    assert (report.problem.kind, report.problem.sequence) == (ProblemKind.GAP, 2)

    # Cutting the newest record off is caught against the head the writer recorded.
    await redis.hset(key, "2", second)
    await redis.hdel(key, "5")
    report = verify(await stored_chain(store, tenant), tenant, anchor=await store.head(tenant))
    assert (report.problem.kind, report.problem.sequence) == (ProblemKind.TRUNCATED, 5)


async def test_the_worker_stores_what_a_failed_background_store_left_once_the_intake_is_idle(
    redis, kafka_log, log_topic, tenant
):
    settings = Settings()
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    intake_topic = f"test.audit.intake.{uuid.uuid4().hex[:10]}.v1"
    admin.create_topics([NewTopic(intake_topic, num_partitions=2, replication_factor=1)])
    producer = new_producer(settings.kafka_bootstrap, "test-audit-chain-intake")
    await producer.start()

    store = AuditStore(redis, log_topic)
    failing = StoreFailingFirst(redis, log_topic)
    worker = ChainWorker(
        settings.kafka_bootstrap,
        AuditChainer(failing, kafka_log, kafka_log),
        producer,
        intake_topic=intake_topic,
        group_id=f"test-chain-{uuid.uuid4().hex[:10]}",
    )
    try:
        for entry in entries(tenant, 4):
            await producer.send_and_wait(
                intake_topic, entry.SerializeToString(), key=tenant.encode(), partition=PARTITION,
                headers=Envelope.for_topic(
                    AUDIT_INTAKE, source="test", subject=tenant, tenant_id=tenant, time=T0, event_id=entry.event_id
                ).to_headers(),
            )
        await worker.start()
        running = asyncio.create_task(worker.run())
        try:
            # The one batch's store fails and no more intake comes: the idle worker
            # catches up from the log, where the records are.
            for _ in range(300):
                if (await store.head(tenant)).sequence == 4:
                    break
                await asyncio.sleep(0.05)
            chain = await stored_chain(store, tenant)
            assert [r.sequence for r in chain] == [1, 2, 3, 4]
            assert verify(chain, tenant, anchor=await store.head(tenant)).ok
            assert failing.calls >= 2
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await worker.stop()
    finally:
        await producer.stop()
        admin.delete_topics([intake_topic])
        admin.close()

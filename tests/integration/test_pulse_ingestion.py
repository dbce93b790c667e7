"""The gateway's ingestion adapters against the real broker and Redis: activities are
published with the deterministic id and the rep's key, and the de-duplication memory is
per tenant and durable (it lives in Redis, not in the process)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from dealpulse.activity.v1 import events_pb2 as pb
from kernel.config import Settings
from kernel.envelope import decode
from kernel.topics import ACTIVITY_EVENT
from services.gateway.adapters.activity_publisher import KafkaActivityPublisher, activity_id
from services.gateway.adapters.webhook_store import WebhookStore
from services.gateway.webhooks.model import Activity

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def call(tenant: str, source_id: str) -> Activity:
    return Activity(tenant_id=tenant, source="wecom", source_id=source_id, kind="call", occurred_at=NOW,
                    rep_id="bob", duration_seconds=300, evidence={"caller": {"userid": "bob"}, "access_token": "x"})


async def test_published_activities_carry_their_deterministic_id_and_key():
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(bootstrap_servers=Settings().kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(ACTIVITY_EVENT.name, p) for p in range(ACTIVITY_EVENT.partitions)]
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    for tp, end in ends.items():
        consumer.seek(tp, end)
    publisher = KafkaActivityPublisher(Settings().kafka_bootstrap)
    try:
        await publisher.publish([call(tenant, "d-1"), call(tenant, "d-2")], NOW)
        found = []
        while len(found) < 2:
            for records in (await consumer.getmany(timeout_ms=2000)).values():
                found += [r for r in records if r.key == f"{tenant}/bob".encode()]
    finally:
        await publisher.close()
        await consumer.stop()
    envelope, event = decode(pb.ActivityEvent, found[0].value, found[0].headers)
    assert envelope.event_id == event.activity_id == activity_id(call(tenant, "d-1"))
    assert envelope.tenant_id == tenant and event.call.duration_seconds == 300
    assert event.evidence["access_token"] == "***"


async def test_the_dedup_memory_is_per_tenant_and_survives_a_new_store(redis):
    tenant, other = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    store = WebhookStore(redis)
    fresh, dropped = await store.unseen([call(tenant, "d-1"), call(tenant, "d-1"), call(other, "d-1")])
    assert len(fresh) == 2 and dropped == 1
    await store.remember(fresh)
    again, dropped = await WebhookStore(redis).unseen([call(tenant, "d-1"), call(other, "d-1"), call(tenant, "d-2")])
    assert [a.source_id for a in again] == ["d-2"] and dropped == 2
    await redis.delete(f"dealpulse:gateway:webhooks:seen:{tenant}", f"dealpulse:gateway:webhooks:seen:{other}")

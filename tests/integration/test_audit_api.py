"""The AuditService over gRPC on real Kafka and Redis, with the chain writer running:
Record (idempotent, read-your-write), Check audited, queries, CSV/JSON export, and
VerifyChain catching a record edited in the store. Intake and log are topics of this
test's own, so a running audit worker never chains them."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import uuid

import grpc
import pytest
import pytest_asyncio
from kafka.admin import KafkaAdminClient, NewTopic

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import audit_service_pb2_grpc
from dealpulse.audit.v1 import events_pb2 as events
from kernel.auth import TokenVerifier, mint_token
from kernel.clock import SystemClock
from kernel.config import Settings
from kernel.grpc_server import AuthInterceptor, bearer_metadata
from kernel.kafka import AioKafkaTransport, EventPublisher
from kernel.topics import AUDIT_INTAKE
from services.audit import bootstrap
from services.audit.adapters.chainer import AuditChainer
from services.audit.adapters.intake import AuditIntake
from services.audit.adapters.kafka_log import ChainWorker, KafkaAuditLog, new_producer
from services.audit.adapters.store import AuditStore
from services.audit.domain.audit_log import records_from_json, verify


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(environment="test")


@pytest_asyncio.fixture
async def audit(settings, redis):
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    suffix = uuid.uuid4().hex[:10]
    intake_topic, log_topic = f"test.audit.intake.x{suffix}.v1", f"test.audit.record.x{suffix}.v1"
    admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1) for t in (intake_topic, log_topic)])
    producer = new_producer(settings.kafka_bootstrap, "test-audit-api")
    await producer.start()
    audit_log = KafkaAuditLog(producer, settings.kafka_bootstrap, log_topic)
    await audit_log.start()
    store = AuditStore(redis, log_topic)
    worker = ChainWorker(
        settings.kafka_bootstrap, AuditChainer(store, audit_log, audit_log), producer,
        intake_topic=intake_topic, group_id=f"test-chain-{suffix}",
    )
    await worker.start()
    running = asyncio.create_task(worker.run())
    transport = AioKafkaTransport(settings.kafka_bootstrap, client_id="test-audit-api")
    await transport.start()
    intake = AuditIntake(EventPublisher(transport.send, "test"), dataclasses.replace(AUDIT_INTAKE, name=intake_topic))
    server = grpc.aio.server(interceptors=[AuthInterceptor(TokenVerifier(settings))])
    bootstrap.register(bootstrap.build_api(bootstrap.load_policies(), intake, store, SystemClock(), wait_seconds=20))(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield audit_service_pb2_grpc.AuditServiceStub(channel), store
    finally:
        await server.stop(None)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.stop()
        await transport.stop()
        await audit_log.stop()
        await producer.stop()
        admin.delete_topics([intake_topic, log_topic])
        admin.close()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def as_(settings, tenant, subject, *roles):
    return bearer_metadata(mint_token(settings, subject=subject, tenant=tenant, roles=list(roles)))


def grade_change(event_id: str, account: str = "acct-1", before='"B"', after='"A"') -> pb.RecordRequest:
    return pb.RecordRequest(
        event_id=event_id, entity_type="account", entity_id=account, field="grade",
        before_json=before, after_json=after, source=events.SOURCE_API, reason="customer signed a framework deal",
    )


async def test_record_is_idempotent_and_answers_with_the_chained_record(audit, settings, tenant):
    stub, _ = audit
    bob = as_(settings, tenant, "bob", "rep")
    first = await stub.Record(grade_change("ev-1"), metadata=bob)
    again = await stub.Record(grade_change("ev-1"), metadata=bob)
    assert first.record == again.record
    entry = first.record.entry
    assert (first.record.sequence, entry.tenant_id, entry.actor_id, list(entry.actor_roles)) == (1, tenant, "bob", ["rep"])
    assert (entry.before_json, entry.after_json) == ('"B"', '"A"')
    second = await stub.Record(grade_change("ev-2", "acct-2"), metadata=bob)
    assert second.record.prev_hash == first.record.hash and second.record.sequence == 2

    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await stub.Record(grade_change("ev-1", "acct-9"), metadata=bob)
    assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as floats:
        await stub.Record(grade_change("ev-3", after="1.5"), metadata=bob)
    assert floats.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "after_json" in floats.value.details()


async def test_denied_checks_are_in_the_log_and_queries_exports_and_verify_agree(audit, settings, tenant):
    stub, store = audit
    bob, root = as_(settings, tenant, "bob", "rep"), as_(settings, tenant, "root", "admin")
    reply = await stub.Check(
        pb.CheckRequest(entity_type="opportunity", entity_id="opp-1", fields=["grade"],
                        record_state={"stage": pb.StateValue(string_value="closed_won"),
                                      "owner_id": pb.StateValue(string_value="bob")}),
        metadata=bob,
    )
    assert not reply.allowed
    for i in range(3):
        await stub.Record(grade_change(f"ev-{i}", f"acct-{i}"), metadata=bob)

    by_field = await stub.QueryRecords(pb.QueryRecordsRequest(filter=pb.RecordFilter(field="grade")), metadata=root)
    decisions = [r for r in by_field.records if r.entry.HasField("decision")]
    assert [(d.entry.actor_id, d.entry.decision.allowed, d.entry.decision.rule_id) for d in decisions] == [
        ("bob", False, "grade-locked-after-closed-won")
    ]
    page = await stub.QueryRecords(
        pb.QueryRecordsRequest(filter=pb.RecordFilter(actor_id="bob"), page_size=2), metadata=root
    )
    rest = await stub.QueryRecords(
        pb.QueryRecordsRequest(filter=pb.RecordFilter(actor_id="bob"), after_sequence=page.next_after_sequence),
        metadata=root,
    )
    assert [r.sequence for r in page.records] + [r.sequence for r in rest.records] == [1, 2, 3, 4]
    one = await stub.QueryRecords(
        pb.QueryRecordsRequest(filter=pb.RecordFilter(entity_type="account", entity_id="acct-1")), metadata=root
    )
    assert [r.entry.entity_id for r in one.records] == ["acct-1"]

    exported = await stub.ExportRecords(pb.ExportRecordsRequest(format=pb.EXPORT_FORMAT_JSON), metadata=root)
    records = records_from_json(exported.content.decode())
    assert exported.record_count == 4 and verify(records, tenant).ok
    as_csv = await stub.ExportRecords(pb.ExportRecordsRequest(format=pb.EXPORT_FORMAT_CSV), metadata=root)
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert as_csv.content_type.startswith("text/csv") and rows[0]["decision_rule_id"] == "grade-locked-after-closed-won"
    with pytest.raises(grpc.aio.AioRpcError) as too_many:
        await stub.ExportRecords(pb.ExportRecordsRequest(format=pb.EXPORT_FORMAT_CSV, max_records=3), metadata=root)
    assert too_many.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

    sound = await stub.VerifyChain(pb.VerifyChainRequest(), metadata=root)
    assert (sound.ok, sound.checked, sound.head_sequence) == (True, 4, 4)

    key = store.records_key(tenant)
    stored = json.loads(await store._redis.hget(key, "3"))
    stored["after"] = "D"
    await store._redis.hset(key, "3", json.dumps(stored))
    broken = await stub.VerifyChain(pb.VerifyChainRequest(), metadata=root)
    assert (broken.ok, broken.problem, broken.problem_sequence, broken.checked) == (
        False, pb.CHAIN_PROBLEM_KIND_EDITED, 3, 2,
    )
    assert "record 3" in broken.detail


async def test_only_auditors_read_and_only_admins_and_directors_verify(audit, settings, tenant):
    stub, _ = audit
    for metadata, call, request in (
        (as_(settings, tenant, "bob", "rep"), stub.QueryRecords, pb.QueryRecordsRequest()),
        (as_(settings, tenant, "ann", "manager"), stub.VerifyChain, pb.VerifyChainRequest()),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(request, metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

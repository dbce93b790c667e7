"""Approvals over gRPC on real Kafka and Redis: the AuditService servicer appends
approval events, a projector loop (the worker's code, fed by a plain consumer) folds
them into Redis, and the sweeper escalates overdue steps on an injected clock. Topics,
deadline set and tenant are this test's own, so a running audit worker never sees them."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import audit_service_pb2_grpc
from dealpulse.audit.v1 import events_pb2 as events
from kernel.auth import TokenVerifier, mint_token
from kernel.clock import FixedClock
from kernel.config import Settings
from kernel.deadlines import DeadlineStore
from kernel.envelope import decode
from kernel.grpc_server import AuthInterceptor, bearer_metadata
from kernel.kafka import AioKafkaTransport, EventPublisher
from kernel.topics import AUDIT_APPROVAL, AUDIT_APPROVAL_COMPLETED, AUDIT_NOTIFICATION_REQUESTED
from services.audit import bootstrap
from services.audit.adapters.approval_commands import ApprovalCommands
from services.audit.adapters.approval_messages import ApprovalTopics
from services.audit.adapters.approval_projector import ApprovalDeadlineSweeper, ApprovalProjector
from services.audit.adapters.approval_store import ApprovalStore
from services.audit.domain.audit_log import AuditDraft
from services.audit.domain.workflows import load_workflows

pytestmark = pytest.mark.infra

T0 = datetime(2026, 11, 6, 8, 0, tzinfo=timezone.utc)


class RecordingIntake:
    def __init__(self) -> None:
        self.drafts: list[AuditDraft] = []

    async def submit(self, drafts: list[AuditDraft]) -> None:
        self.drafts.extend(drafts)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(environment="test")


async def _project(consumer: AIOKafkaConsumer, projector: ApprovalProjector) -> None:
    async for message in consumer:
        envelope, event = decode(events.ApprovalEvent, message.value, message.headers)
        await projector.on_event(envelope, event, message.partition, message.offset)


@dataclasses.dataclass
class Rig:
    stub: audit_service_pb2_grpc.AuditServiceStub
    tenant: str
    clock: FixedClock
    sweeper: ApprovalDeadlineSweeper
    intake: RecordingIntake
    topics: ApprovalTopics
    store: ApprovalStore
    settings: Settings

    def token(self, subject: str, *roles: str, tenant: str | None = None):
        return bearer_metadata(mint_token(self.settings, subject=subject, tenant=tenant or self.tenant, roles=list(roles)))


@pytest_asyncio.fixture
async def rig(settings, redis):
    suffix = uuid.uuid4().hex[:10]
    topics = ApprovalTopics(
        events=dataclasses.replace(AUDIT_APPROVAL, name=f"test.audit.approval.x{suffix}.v1"),
        completed=dataclasses.replace(AUDIT_APPROVAL_COMPLETED, name=f"test.audit.completed.x{suffix}.v1"),
        notifications=dataclasses.replace(AUDIT_NOTIFICATION_REQUESTED, name=f"test.audit.notify.x{suffix}.v1"),
    )
    names = [topics.events.name, topics.completed.name, topics.notifications.name]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1) for name in names])
    transport = AioKafkaTransport(settings.kafka_bootstrap, client_id="test-approvals")
    await transport.start()
    publisher = EventPublisher(transport.send, "test")
    workflows = load_workflows()
    store = ApprovalStore(redis, workflows)
    clock = FixedClock(T0)
    deadlines = DeadlineStore(redis, f"test.approval.{suffix}")
    intake = RecordingIntake()
    projector = ApprovalProjector(store, workflows, deadlines, publisher, intake, topics)
    consumer = AIOKafkaConsumer(
        topics.events.name, bootstrap_servers=settings.kafka_bootstrap, group_id=f"test-approvals-{suffix}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    projecting = asyncio.create_task(_project(consumer, projector))
    commands = ApprovalCommands(store, publisher, workflows, clock, wait_seconds=15, topics=topics)
    server = grpc.aio.server(interceptors=[AuthInterceptor(TokenVerifier(settings))])
    api = bootstrap.build_api(bootstrap.load_policies(), intake, None, clock, approvals=commands)
    bootstrap.register(api)(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Rig(
                audit_service_pb2_grpc.AuditServiceStub(channel),
                f"t{suffix}",
                clock,
                ApprovalDeadlineSweeper(deadlines, publisher, clock, topics=topics),
                intake,
                topics,
                store,
                settings,
            )
    finally:
        await server.stop(None)
        projecting.cancel()
        await asyncio.gather(projecting, return_exceptions=True)
        await consumer.stop()
        await transport.stop()
        admin.delete_topics(names)
        admin.close()


async def read_all(settings: Settings, topic: str, message_type, expected: int, timeout: float = 15.0):
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                found.extend(decode(message_type, m.value, m.headers) for m in messages)
    finally:
        await consumer.stop()
    return found


GRADE = events.ProposedChange(entity_type="account", entity_id="ruijin", field="grade", before_json='"B"', after_json='"A"')


def submit(request_id="r1", **overrides) -> pb.SubmitApprovalRequest:
    fields = dict(request_id=request_id, workflow="customer_grade_change", change=GRADE, reason="three-year framework signed")
    fields.update(overrides)
    return pb.SubmitApprovalRequest(**fields)


def decide(step, decision_id, verdict=events.VERDICT_APPROVE, reason="", request_id="r1") -> pb.DecideApprovalRequest:
    return pb.DecideApprovalRequest(request_id=request_id, step=step, verdict=verdict, reason=reason, decision_id=decision_id)


async def rejected(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_grade_change_runs_rep_manager_finance_and_completes_with_every_approver(rig):
    rep, mgr, fin = rig.token("bob", "rep"), rig.token("ann", "manager"), rig.token("fay", "finance")
    submitted = (await rig.stub.SubmitApproval(submit(), metadata=rep)).request
    assert submitted.status == events.APPROVAL_STATUS_PENDING and submitted.submitted_by == "bob"
    assert [s.name for s in submitted.steps] == ["manager_approval"]
    assert submitted.steps[0].due_at.ToDatetime(timezone.utc) == T0 + timedelta(hours=24)

    assert [r.request_id for r in (await rig.stub.ListPendingApprovals(pb.ListPendingApprovalsRequest(), metadata=mgr)).requests] == ["r1"]
    assert not (await rig.stub.ListPendingApprovals(pb.ListPendingApprovalsRequest(), metadata=fin)).requests
    early = await rejected(rig.stub.DecideApproval(decide("finance_review", "d0"), metadata=fin))
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION and "not open yet" in early.details()

    rig.clock.advance(timedelta(hours=1))
    after_manager = (await rig.stub.DecideApproval(decide("manager_approval", "d1", reason="seen the contract"), metadata=mgr)).request
    assert after_manager.status == events.APPROVAL_STATUS_PENDING
    assert [s.name for s in after_manager.steps] == ["manager_approval", "finance_review"]
    assert after_manager.steps[0].decided_by == "ann" and list(after_manager.steps[0].decided_as_roles) == ["manager"]

    rig.clock.advance(timedelta(hours=1))
    done = (await rig.stub.DecideApproval(decide("finance_review", "d2", reason="credit fine"), metadata=fin)).request
    assert done.status == events.APPROVAL_STATUS_APPROVED

    [(envelope, completed)] = await read_all(rig.settings, rig.topics.completed.name, events.ApprovalCompleted, 1)
    assert envelope.subject == f"{rig.tenant}/ruijin"
    assert (completed.workflow, completed.request_id, completed.status) == ("customer_grade_change", "r1", events.APPROVAL_STATUS_APPROVED)
    assert (completed.change.entity_type, completed.change.field, completed.change.after_json) == ("account", "grade", '"A"')
    assert list(completed.approved_by) == ["ann", "fay"] and list(completed.notify_roles) == ["marketing"]
    assert [(d.step, d.actor_id, list(d.actor_roles), d.decided_at.ToDatetime(timezone.utc)) for d in completed.decisions] == [
        ("manager_approval", "ann", ["manager"], T0 + timedelta(hours=1)),
        ("finance_review", "fay", ["finance"], T0 + timedelta(hours=2)),
    ]
    assert completed.submitted_by == "bob" and list(completed.submitted_by_roles) == ["rep"]

    notices = [n for _, n in await read_all(rig.settings, rig.topics.notifications.name, events.NotificationRequested, 4)]
    assert {n.recipient_role for n in notices if n.recipient_role} >= {"manager", "finance", "marketing"}
    assert any(n.recipient_id == "bob" for n in notices)

    audited = [(d.entity_type, d.field, d.actor_id) for d in rig.intake.drafts]
    assert audited == [
        ("approval_request", "", "bob"),
        ("approval_request", "step_manager_approval", "ann"),
        ("approval_request", "step_finance_review", "fay"),
        ("approval_request", "status", "system"),
    ]
    assert not (await rig.stub.ListPendingApprovals(pb.ListPendingApprovalsRequest(), metadata=mgr)).requests


async def test_only_the_right_role_decides_and_nobody_decides_their_own_request(rig):
    await rig.stub.SubmitApproval(submit(), metadata=rig.token("bob", "rep", "manager"))
    for who, roles in [("carl", ("rep",)), ("fay", ("finance",)), ("mia", ("marketing",))]:
        error = await rejected(rig.stub.DecideApproval(decide("manager_approval", f"x-{who}"), metadata=rig.token(who, *roles)))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED and "needs one of the roles manager" in error.details()
    own = await rejected(rig.stub.DecideApproval(decide("manager_approval", "own"), metadata=rig.token("bob", "manager")))
    assert own.code() == grpc.StatusCode.PERMISSION_DENIED and "submitted request r1" in own.details()
    gate = await rejected(
        rig.stub.SubmitApproval(
            submit("g1", workflow="stage_gate_override", change=events.ProposedChange(
                entity_type="opportunity", entity_id="o1", field="stage", before_json='"proposal"', after_json='"negotiation"')),
            metadata=rig.token("carl", "rep"),
        )
    )
    assert gate.code() == grpc.StatusCode.PERMISSION_DENIED
    stored = (await rig.stub.GetApproval(pb.GetApprovalRequest(request_id="r1"), metadata=rig.token("ann", "manager"))).request
    assert stored.version == 1 and not stored.steps[0].decided_by


async def test_decisions_are_idempotent_and_a_rejection_needs_a_reason(rig):
    rep, mgr = rig.token("bob", "rep"), rig.token("ann", "manager")
    await rig.stub.SubmitApproval(submit(), metadata=rep)
    again = (await rig.stub.SubmitApproval(submit(), metadata=rep)).request
    assert again.version == 1
    other = await rejected(rig.stub.SubmitApproval(submit(reason="other"), metadata=rep))
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS

    no_reason = await rejected(rig.stub.DecideApproval(decide("manager_approval", "d1", events.VERDICT_REJECT), metadata=mgr))
    assert no_reason.code() == grpc.StatusCode.INVALID_ARGUMENT and no_reason.details().startswith("reason")
    first = (await rig.stub.DecideApproval(decide("manager_approval", "d1", events.VERDICT_REJECT, "grade A needs 3 years of orders"), metadata=mgr)).request
    repeat = (await rig.stub.DecideApproval(decide("manager_approval", "d1", events.VERDICT_REJECT, "grade A needs 3 years of orders"), metadata=mgr)).request
    assert first == repeat and first.status == events.APPROVAL_STATUS_REJECTED
    reused = await rejected(rig.stub.DecideApproval(decide("manager_approval", "d1"), metadata=mgr))
    assert reused.code() == grpc.StatusCode.ALREADY_EXISTS

    [(_, completed)] = await read_all(rig.settings, rig.topics.completed.name, events.ApprovalCompleted, 1)
    assert (completed.status, completed.rejected_by, completed.rejected_step) == (events.APPROVAL_STATUS_REJECTED, "ann", "manager_approval")
    assert completed.rejection_reason == "grade A needs 3 years of orders" and not completed.notify_roles


async def test_an_overdue_step_escalates_once_to_the_director(rig):
    await rig.stub.SubmitApproval(submit(), metadata=rig.token("bob", "rep"))
    director = rig.token("dan", "director")
    denied = await rejected(rig.stub.DecideApproval(decide("manager_approval", "d1"), metadata=director))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await rig.sweeper.sweep() == 0
    rig.clock.advance(timedelta(hours=24))
    assert await rig.sweeper.sweep() == 1
    assert await rig.sweeper.sweep() == 0
    for _ in range(100):
        found, _position = await rig.store.get(rig.tenant, "r1")
        if found.steps[0].escalated:
            break
        await asyncio.sleep(0.05)
    assert found.steps[0].escalated and found.version == 2
    decided = (await rig.stub.DecideApproval(decide("manager_approval", "d1", reason="manager away"), metadata=director)).request
    assert decided.steps[0].decided_by == "dan" and list(decided.steps[0].decided_as_roles) == ["director"]
    assert ("approval_request", "step_manager_approval", "system") in [(d.entity_type, d.field, d.actor_id) for d in rig.intake.drafts]


async def test_tenants_are_walls_and_reading_is_for_the_involved(rig):
    await rig.stub.SubmitApproval(submit(), metadata=rig.token("bob", "rep"))
    foreign = await rejected(rig.stub.GetApproval(pb.GetApprovalRequest(request_id="r1"), metadata=rig.token("ann", "manager", tenant="other")))
    assert foreign.code() == grpc.StatusCode.NOT_FOUND
    stranger = await rejected(rig.stub.GetApproval(pb.GetApprovalRequest(request_id="r1"), metadata=rig.token("carl", "rep")))
    assert stranger.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await rig.stub.GetApproval(pb.GetApprovalRequest(request_id="r1"), metadata=rig.token("fay", "finance"))).request.request_id == "r1"


async def test_malformed_commands_name_the_field_and_append_nothing(rig):
    rep = rig.token("bob", "rep")
    cases = [
        (submit(workflow="nope"), "workflow"),
        (submit(change=events.ProposedChange(entity_type="account", entity_id="a", field="name", before_json='"x"', after_json='"y"')), "change.field"),
        (submit(change=events.ProposedChange(entity_type="account", entity_id="a", field="grade", before_json="{", after_json='"A"')), "change.before_json"),
        (submit(reason=""), "reason"),
        (submit(request_id="has space"), "request_id"),
    ]
    for request, field in cases:
        error = await rejected(rig.stub.SubmitApproval(request, metadata=rep))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith(field), (field, error.details())
    assert await rig.store.get(rig.tenant, "r1") is None and not rig.intake.drafts


async def test_the_projection_is_rebuilt_from_the_topic(rig, redis):
    await rig.stub.SubmitApproval(submit(), metadata=rig.token("bob", "rep"))
    rig.clock.advance(timedelta(hours=1))
    before = (await rig.stub.DecideApproval(decide("manager_approval", "d1"), metadata=rig.token("ann", "manager"))).request
    await redis.delete(f"dealpulse:audit:{rig.tenant}:approval:r1", f"dealpulse:audit:{rig.tenant}:approvals:pending")
    assert await rig.store.get(rig.tenant, "r1") is None

    replayer = ApprovalProjector(
        rig.store, load_workflows(), DeadlineStore(redis, f"test.replay.{rig.tenant}"), _Discard(), RecordingIntake(), rig.topics
    )
    consumer = AIOKafkaConsumer(
        rig.topics.events.name, bootstrap_servers=rig.settings.kafka_bootstrap, group_id=f"replay-{rig.tenant}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        for _ in range(50):
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                for m in messages:
                    envelope, event = decode(events.ApprovalEvent, m.value, m.headers)
                    await replayer.on_event(envelope, event, m.partition, m.offset)
            if await rig.store.get(rig.tenant, "r1") is not None and (await rig.store.get(rig.tenant, "r1"))[0].version == 2:
                break
    finally:
        await consumer.stop()
    rebuilt = (await rig.stub.GetApproval(pb.GetApprovalRequest(request_id="r1"), metadata=rig.token("ann", "manager"))).request
    assert rebuilt == before
    assert [r.request_id for r in (await rig.stub.ListPendingApprovals(pb.ListPendingApprovalsRequest(), metadata=rig.token("fay", "finance"))).requests] == ["r1"]


class _Discard:
    """A publisher for a replay whose messages consumers already have (same ids)."""

    async def publish(self, spec, payload, **_):
        return None, 0, 0

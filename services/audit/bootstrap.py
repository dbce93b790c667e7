"""Composition root: the audit gRPC API and the audit stream worker."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import faust
import grpc

from dealpulse.audit.v1 import audit_service_pb2_grpc
from kernel.clock import Clock, clock_from_settings
from kernel.config import Settings
from kernel.deadlines import DeadlineStore
from kernel.faust_app import create_faust_app, freeze_startup_heap, faust_send
from kernel.grpc_server import serve
from kernel.kafka import EventPublisher
from kernel.redis_connection import connect_redis
from services.audit.adapters import streams
from services.audit.adapters.anomaly_reports import AnomalyReports
from services.audit.adapters.approval_commands import ApprovalCommands
from services.audit.adapters.approval_projector import APPROVAL_DEADLINES, ApprovalDeadlineSweeper, ApprovalProjector
from services.audit.adapters.approval_store import ApprovalStore
from services.audit.adapters.chainer import AuditChainer
from services.audit.adapters.grpc_api import SERVICE_NAME, AuditApi
from services.audit.adapters.intake import AuditIntake
from services.audit.adapters.kafka_log import CHAIN_BATCH_BYTES, ChainWorker, KafkaAuditLog, new_producer, producer_send
from services.audit.adapters.policy_book import TenantPolicies
from services.audit.adapters.store import AuditStore
from services.audit.domain.errors import PolicyError
from services.audit.domain.policies import TEMPLATES_DIR, load_templates
from services.audit.domain.workflows import WorkflowCatalog

log = logging.getLogger(__name__)
SOURCE = "dealpulse/audit"

# The shipped template every tenant is held to. Tenant-specific policies (documents that
# `extends` a template, published and activated per tenant) do not exist yet: until they
# do, every tenant uses this one, and each decision names it and its version.
ACTIVE_TEMPLATE = ("SEC-SALES-2026-01", 1)


def load_policies(directory: Path | str = TEMPLATES_DIR, active: tuple[str, int] = ACTIVE_TEMPLATE) -> TenantPolicies:
    """Load and validate every policy document in `directory` (all of them, so a broken
    file is found at start-up, not when a tenant first needs it). Raises PolicyError,
    naming the file, key path and problem, when a document is bad or the active template
    is missing."""
    templates = load_templates(directory)
    if active not in templates:
        known = ", ".join(f"{i} v{v}" for i, v in sorted(templates)) or "none"
        raise PolicyError(
            str(Path(directory) / f"{active[0]}.yaml"),
            "",
            f"the active template {active[0]} v{active[1]} is not shipped; shipped templates: {known}",
        )
    return TenantPolicies(templates[active])


def build_api(policies: TenantPolicies, intake: AuditIntake, store: AuditStore | None, clock: Clock, **options) -> AuditApi:
    return AuditApi(policies, intake, store, clock, **options)


def register(api: AuditApi):
    """The `register` callback for `kernel.grpc_server.serve`."""

    def add(server: grpc.aio.Server) -> list[str]:
        audit_service_pb2_grpc.add_AuditServiceServicer_to_server(api, server)
        return [SERVICE_NAME]

    return add


async def run_grpc(settings: Settings, policies: TenantPolicies, workflows: WorkflowCatalog) -> None:
    """Serve until SIGTERM. `policies` and `workflows` are loaded by the caller before
    anything listens, so a bad document stops start-up and health never reports SERVING."""
    redis = connect_redis(settings)
    producer = new_producer(settings.kafka_bootstrap, "audit-grpc", linger_ms=0)
    publisher = EventPublisher(producer_send(producer), SOURCE)
    clock = clock_from_settings(settings.clock, redis)
    store = AuditStore(redis)
    api = build_api(
        policies,
        AuditIntake(publisher),
        store,
        clock,
        anomalies=AnomalyReports(store, redis),
        approvals=ApprovalCommands(
            ApprovalStore(redis, workflows), publisher, workflows, clock, wait_seconds=settings.read_your_write_timeout_seconds
        ),
        wait_seconds=settings.read_your_write_timeout_seconds,
    )

    async def stop() -> None:
        await producer.stop()
        await redis.aclose()

    await serve(settings, register(api), on_start=producer.start, on_stop=stop)


# The chain writer makes a few dozen short-lived objects per record. With CPython's
# default thresholds the collector ran every ~700 allocations and its full passes
# walked every object loaded at start-up (Faust, aiokafka, protobuf, gRPC): ~15 µs of
# CPU per record, as much as hashing it. Frozen, the start-up objects are left out of
# collections (they live as long as the process anyway) and with these thresholds
# the collector costs ~2 µs per record; cycles are still collected, just later.
CHAIN_GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc_for_chaining() -> None:
    """Once the chain writer is started (everything it keeps is allocated)."""
    freeze_startup_heap()
    gc.set_threshold(*CHAIN_GC_THRESHOLDS)


def build_worker(settings: Settings, workflows: WorkflowCatalog) -> faust.App:
    app = create_faust_app("audit", settings)
    redis = connect_redis(settings)
    publisher = EventPublisher(faust_send(app), SOURCE)
    intake = AuditIntake(publisher)
    clock = clock_from_settings(settings.clock, redis)
    streams.install_domain_auditing(app, intake)
    deadlines = DeadlineStore(redis, APPROVAL_DEADLINES)
    streams.install_approvals(
        app,
        ApprovalProjector(ApprovalStore(redis, workflows), workflows, deadlines, publisher, intake),
        ApprovalDeadlineSweeper(deadlines, publisher, clock),
    )
    streams.install_weekly_anomaly_report(app, AnomalyReports(AuditStore(redis), redis), publisher, clock)

    @app.task
    async def chain_audit_records() -> None:
        # Its own producer and consumers: the chain writes to chosen partitions and
        # commits per batch, outside Faust's stream machinery.
        producer = new_producer(settings.kafka_bootstrap, "audit-chain", max_batch_size=CHAIN_BATCH_BYTES)
        await producer.start()
        audit_log = KafkaAuditLog(producer, settings.kafka_bootstrap)
        await audit_log.start()
        worker = ChainWorker(settings.kafka_bootstrap, AuditChainer(AuditStore(redis), audit_log, audit_log), producer)
        await worker.start()
        tune_gc_for_chaining()
        try:
            await worker.run()
        finally:
            await worker.stop()
            await audit_log.stop()
            await producer.stop()

    return app

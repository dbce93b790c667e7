"""Composition root: builds the real adapters for each actions process."""

from __future__ import annotations

import faust

from dealpulse.actions.v1 import actions_service_pb2, actions_service_pb2_grpc, reports_service_pb2, reports_service_pb2_grpc
from dealpulse.actions.v1 import leads_service_pb2, leads_service_pb2_grpc
from kernel.audit_approvals import AuditApprovals
from kernel.audit_check import AuditCheck
from kernel.clock import clock_from_settings
from kernel.config import Settings
from kernel.deadlines import DeadlineStore
from kernel.faust_app import create_faust_app, faust_send
from kernel.grpc_server import serve
from kernel.kafka import AioKafkaTransport, EventPublisher
from kernel.notifications.channels import SmtpSettings
from kernel.redis_connection import connect_redis
from services.actions.adapters import streams
from services.actions.adapters.approval_outcomes import ApprovalOutcomes
from services.actions.adapters.grpc_api import ActionsApi
from services.actions.adapters.grpc_reports import ReportsApi
from services.actions.adapters.lead_grpc import LeadsApi
from services.actions.adapters.lead_projector import LEAD_RESPONSE_DEADLINES, LeadProjector, LeadResponseSweeper
from services.actions.adapters.lead_store import LeadStore
from services.actions.adapters.touch_detector import TOUCH_ALERT_OUTBOX, DuplicateTouchDetector, TouchAlertSweeper
from services.actions.adapters.projector import ESCALATION_DEADLINES, ActionsProjector, EscalationSweeper, StallSweeper
from services.actions.adapters.read_models import ActionsReadModel
from services.actions.adapters.reporting import wiring as reporting

SOURCE = "dealpulse/actions"
STALL_DEADLINES = "actions.stall"


async def run_grpc(settings: Settings) -> None:
    redis = connect_redis(settings)
    transport = AioKafkaTransport(settings.kafka_bootstrap, client_id="actions-grpc")
    audit = AuditCheck(settings.audit_addr)
    approvals = AuditApprovals(settings.audit_addr)
    api = ActionsApi(
        ActionsReadModel(redis),
        EventPublisher(transport.send, SOURCE),
        clock_from_settings(settings.clock, redis),
        settings.read_your_write_timeout_seconds,
        audit,
        approvals,
    )

    reports = ReportsApi(
        reporting.reporting_service(redis, EventPublisher(transport.send, SOURCE), clock_from_settings(settings.clock, redis))
    )

    read_model = ActionsReadModel(redis)
    leads = LeadsApi(
        read_model,
        LeadStore(read_model),
        EventPublisher(transport.send, SOURCE),
        clock_from_settings(settings.clock, redis),
        settings.read_your_write_timeout_seconds,
        audit=audit,
    )

    def register(server):
        actions_service_pb2_grpc.add_ActionsServiceServicer_to_server(api, server)
        leads_service_pb2_grpc.add_LeadsServiceServicer_to_server(leads, server)
        reports_service_pb2_grpc.add_ReportsServiceServicer_to_server(reports, server)
        return [
            actions_service_pb2.DESCRIPTOR.services_by_name["ActionsService"].full_name,
            reports_service_pb2.DESCRIPTOR.services_by_name["ReportsService"].full_name,
            leads_service_pb2.DESCRIPTOR.services_by_name["LeadsService"].full_name,
        ]

    async def stop() -> None:
        await transport.stop()
        await audit.close()
        await approvals.close()
        await redis.aclose()

    await serve(settings, register, on_start=transport.start, on_stop=stop)


def build_worker(settings: Settings) -> faust.App:
    app = create_faust_app("actions", settings)
    redis = connect_redis(settings)
    publisher = EventPublisher(faust_send(app), SOURCE)
    stall = DeadlineStore(redis, STALL_DEADLINES)
    escalation = DeadlineStore(redis, ESCALATION_DEADLINES)
    clock = clock_from_settings(settings.clock, redis)
    read_model = ActionsReadModel(redis)
    leads = LeadStore(read_model)
    lead_response = DeadlineStore(redis, LEAD_RESPONSE_DEADLINES)
    touch_alerts = DeadlineStore(redis, TOUCH_ALERT_OUTBOX)
    lead_projector = LeadProjector(read_model, leads, lead_response, publisher)
    publish_all = streams.batch_publisher(app, SOURCE).publish
    projector = ActionsProjector(read_model, stall, publisher, escalation, publish_all=publish_all)
    streams.install_opportunity_projection(app, projector, settings.kafka_bootstrap)
    streams.install(
        app,
        projector,
        StallSweeper(stall, publisher, clock, publish_all=publish_all),
        EscalationSweeper(escalation, publisher, clock, publish_all=publish_all),
        LeadResponseSweeper(lead_response, publisher, clock),
        TouchAlertSweeper(touch_alerts, publisher, clock),
        activity_handlers=(lead_projector.on_activity_event, DuplicateTouchDetector(read_model, leads, touch_alerts).on_activity_event),
    )
    streams.install_leads(app, lead_projector)
    streams.install_approval_outcomes(app, ApprovalOutcomes(read_model, publisher))
    return app


def build_reporting_worker(settings: Settings) -> faust.App:
    """The reporting worker: bulk work (compliance aggregates, the morning must-do lists
    and Monday's reports, notification delivery) in a process and consumer group of its
    own, so that none of it takes CPU from the stall breaker's alerts in `build_worker`."""
    app = create_faust_app("actions-reporting", settings)
    redis = connect_redis(settings)
    clock = clock_from_settings(settings.clock, redis)
    reporting.install_worker(app, redis, EventPublisher(faust_send(app), SOURCE), clock, SmtpSettings())
    return app

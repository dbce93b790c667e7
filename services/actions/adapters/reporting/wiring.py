"""Builds the reporting adapters for the actions processes (bootstrap calls these)."""

from __future__ import annotations

import faust
import httpx
from redis.asyncio import Redis

from kernel.clock import Clock
from kernel.kafka import EventPublisher
from kernel.notifications import ChannelSenders, RedisOutbox
from kernel.notifications.channels import SmtpSettings
from services.actions.adapters.read_models import ActionsReadModel
from services.actions.adapters.reporting import streams
from services.actions.adapters.reporting.aggregator import ReportingAggregator
from services.actions.adapters.reporting.service import ReportingService
from services.actions.adapters.reporting.store import ReportingStore
from services.actions.adapters.template_library import TemplateLibrary
from services.actions.domain.templates.model import Template, TemplateRef

OUTBOX = "actions"


def template_source(library: TemplateLibrary):
    async def template_of(tenant: str, ref: TemplateRef) -> Template:
        if ref in library.shipped:
            return library.shipped.resolve(ref, tenant_id=tenant)
        return (await library.catalogue(tenant)).resolve(ref, tenant_id=tenant)

    return template_of


def reporting_service(redis: Redis, publisher: EventPublisher, clock: Clock) -> ReportingService:
    read_model = ActionsReadModel(redis)
    return ReportingService(
        ReportingStore(redis),
        read_model.policy,
        template_source(TemplateLibrary(read_model)),
        publisher,
        RedisOutbox(redis, OUTBOX),
        clock,
    )


def install_worker(app: faust.App, redis: Redis, publisher: EventPublisher, clock: Clock, smtp: SmtpSettings) -> None:
    read_model = ActionsReadModel(redis)
    store = ReportingStore(redis)
    library = TemplateLibrary(read_model)
    outbox = RedisOutbox(redis, OUTBOX)
    service = ReportingService(store, read_model.policy, template_source(library), publisher, outbox, clock)
    http = httpx.AsyncClient(timeout=10.0)
    streams.install(
        app,
        ReportingAggregator(store, read_model.policy, template_source(library)),
        store,
        service,
        outbox,
        ChannelSenders(http, smtp),
    )

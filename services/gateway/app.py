"""Composition root: builds the FastAPI app and wires its adapters; no logic here.

Adapters passed in (fakes in tests) are used as given and left to the caller to
start and close; those not passed in are built, started and closed by the app's
lifespan, inside the running event loop (a grpc.aio channel binds to the loop it is
created in).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from redis.asyncio import Redis

from kernel.auth import TokenVerifier
from kernel.clock import Clock, SystemClock
from kernel.config import Settings
from kernel.redis_connection import connect_redis
from services.gateway.adapters.actions_client import ActionsPort, GrpcActionsClient
from services.gateway.adapters.activity_publisher import ActivityPort, KafkaActivityPublisher
from services.gateway.adapters.alert_feed import AlertFeed
from services.gateway.adapters.audit_client import AuditPort, GrpcAuditClient
from services.gateway.adapters.idempotency import IdempotencyStore
from services.gateway.adapters.pulse_client import GrpcPulseClient, PulsePort
from services.gateway.adapters.reports_client import GrpcReportsClient, ReportsPort
from services.gateway.adapters.leads_client import GrpcLeadsClient, LeadsPort
from services.gateway.adapters.webhook_store import WebhookStore
from services.gateway.api import (
    routes_accounts,
    routes_admin,
    routes_dashboard,
    routes_alerts,
    routes_audit,
    routes_health,
    routes_opportunities,
    routes_leads,
    routes_reports,
    routes_team,
    routes_templates,
    routes_webhooks,
)
from services.gateway.api.problems import install_problem_handlers

# The service may wait this long for its own write to reach the projection; the
# gateway's deadline must outlast it or a slow success would read as a timeout.
DEADLINE_MARGIN_SECONDS = 5.0
# Probes would drown real traces; an SSE stream's hours-long span would distort every
# latency percentile.
UNTRACED_PATHS = "healthz,readyz,alerts/stream"


def create_app(
    settings: Settings,
    *,
    actions: ActionsPort | None = None,
    redis: Redis | None = None,
    alert_feed: AlertFeed | None = None,
    activities: ActivityPort | None = None,
    wall_clock: Clock | None = None,
    pulse: PulsePort | None = None,
    reports: ReportsPort | None = None,
    leads: LeadsPort | None = None,
    audit: AuditPort | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as owned:
            app.state.actions = actions if actions is not None else await _owned_actions_client(settings, owned)
            app.state.redis = redis if redis is not None else _owned_redis(settings, owned)
            app.state.alert_feed = alert_feed if alert_feed is not None else await _owned_alert_feed(settings, owned)
            app.state.idempotency_store = IdempotencyStore(app.state.redis)
            app.state.activities = activities if activities is not None else await _owned_activities(settings, owned)
            app.state.webhook_store = WebhookStore(app.state.redis)
            app.state.wall_clock = wall_clock or SystemClock()
            app.state.pulse = pulse if pulse is not None else _owned_pulse_client(settings, owned)
            app.state.reports = reports if reports is not None else _owned_reports_client(settings, owned)
            app.state.leads = leads if leads is not None else _owned_leads_client(settings, owned)
            app.state.audit = audit if audit is not None else _owned_audit_client(settings, owned)
            yield

    app = FastAPI(
        title="Dealpulse gateway",
        version="1.0.0",
        description="REST/JSON edge of Dealpulse. Every /v1 route takes a bearer token; "
        "errors are RFC 9457 problem documents.",
        lifespan=lifespan,
    )
    app.state.token_verifier = TokenVerifier(settings)
    install_problem_handlers(app)
    for router in (routes_health, routes_accounts, routes_team, routes_opportunities, routes_alerts, routes_templates):
        app.include_router(router.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_leads.router)
    for router in routes_webhooks.routers:
        app.include_router(router)
    app.include_router(routes_dashboard.router)
    app.include_router(routes_audit.router)
    if settings.clock == "adjustable":
        app.include_router(routes_admin.router)
    # No per-message ASGI send/receive spans: the request span and its gRPC child say it all.
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"])
    return app


async def _owned_actions_client(settings: Settings, owned: AsyncExitStack) -> GrpcActionsClient:
    client = GrpcActionsClient(
        settings.actions_addr, deadline_seconds=settings.read_your_write_timeout_seconds + DEADLINE_MARGIN_SECONDS
    )
    owned.push_async_callback(client.close)
    return client


def _owned_redis(settings: Settings, owned: AsyncExitStack) -> Redis:
    client = connect_redis(settings)
    owned.push_async_callback(client.aclose)
    return client


async def _owned_alert_feed(settings: Settings, owned: AsyncExitStack) -> AlertFeed:
    feed = AlertFeed(settings.kafka_bootstrap)
    await feed.start()
    owned.push_async_callback(feed.stop)
    return feed


async def _owned_activities(settings: Settings, owned: AsyncExitStack) -> KafkaActivityPublisher:
    publisher = KafkaActivityPublisher(settings.kafka_bootstrap)
    owned.push_async_callback(publisher.close)
    return publisher


def _owned_reports_client(settings: Settings, owned: AsyncExitStack) -> GrpcReportsClient:
    client = GrpcReportsClient(settings.actions_addr, deadline_seconds=settings.read_your_write_timeout_seconds)
    owned.push_async_callback(client.close)
    return client


def _owned_pulse_client(settings: Settings, owned: AsyncExitStack) -> GrpcPulseClient:
    client = GrpcPulseClient(settings.pulse_addr)
    owned.push_async_callback(client.close)
    return client


def _owned_leads_client(settings: Settings, owned: AsyncExitStack) -> GrpcLeadsClient:
    client = GrpcLeadsClient(
        settings.actions_addr, deadline_seconds=settings.read_your_write_timeout_seconds + DEADLINE_MARGIN_SECONDS
    )
    owned.push_async_callback(client.close)
    return client


def _owned_audit_client(settings: Settings, owned: AsyncExitStack) -> GrpcAuditClient:
    client = GrpcAuditClient(
        settings.audit_addr, deadline_seconds=settings.read_your_write_timeout_seconds + DEADLINE_MARGIN_SECONDS
    )
    owned.push_async_callback(client.close)
    return client

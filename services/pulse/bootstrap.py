"""Composition root: builds the real adapters for each pulse process."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import asdict

from aiohttp import web

from dealpulse.pulse.v1 import pulse_service_pb2_grpc
from kernel.clock import clock_from_settings
from kernel.config import Settings
from kernel.grpc_server import serve
from kernel.redis_connection import connect_redis
from services.pulse.adapters.grpc_api import SERVICE_NAME, PulseApi
from services.pulse.adapters.replica import PulseReplica
from services.pulse.adapters.tenant_settings import TenantSettingsStore
from services.pulse.adapters.worker import PulseWorker

log = logging.getLogger(__name__)


async def run_grpc(settings: Settings) -> None:
    redis = connect_redis(settings)
    replica = PulseReplica(settings.kafka_bootstrap, TenantSettingsStore(redis))
    api = PulseApi(replica, clock_from_settings(settings.clock, redis))
    stopping = asyncio.Event()
    follower: asyncio.Task | None = None

    def register(server):
        pulse_service_pb2_grpc.add_PulseServiceServicer_to_server(api, server)
        return [SERVICE_NAME]

    async def start() -> None:
        nonlocal follower
        await replica.start()
        follower = asyncio.create_task(replica.run(stopping), name="pulse-replica")

    async def stop() -> None:
        stopping.set()
        if follower is not None:
            await follower
        await replica.stop()
        await redis.aclose()

    await serve(settings, register, on_start=start, on_stop=stop)


async def run_worker(settings: Settings) -> None:
    """The worker until SIGTERM; `/ready` on the web port answers 200 once it owns
    partitions and has replayed them (Kubernetes readiness, tools/stack.py)."""
    redis = connect_redis(settings)
    worker = PulseWorker(settings.kafka_bootstrap, TenantSettingsStore(redis))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    async def ready(request: web.Request) -> web.Response:
        stats = asdict(worker.stats)
        return web.json_response(stats, status=200 if worker.stats.ready and worker.stats.assigned else 503)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(asdict(worker.stats))

    async def alive(request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    app = web.Application()
    app.router.add_get("/ready", ready)
    app.router.add_get("/stats", stats)
    app.router.add_get("/healthz", alive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", settings.faust_web_port).start()
    await worker.start()
    try:
        await worker.run(stopping)
    finally:
        await worker.stop()
        await runner.cleanup()
        await redis.aclose()

"""Composition root: builds the real adapters for each actions process."""

from __future__ import annotations

import faust

from dealpulse.actions.v1 import actions_service_pb2, actions_service_pb2_grpc
from kernel.clock import clock_from_settings
from kernel.config import Settings
from kernel.deadlines import DeadlineStore
from kernel.faust_app import create_faust_app, faust_send
from kernel.grpc_server import serve
from kernel.kafka import AioKafkaTransport, EventPublisher
from kernel.redis_connection import connect_redis
from services.actions.adapters import streams
from services.actions.adapters.grpc_api import ActionsApi
from services.actions.adapters.projector import ActionsProjector, StallSweeper
from services.actions.adapters.read_models import ActionsReadModel

SOURCE = "dealpulse/actions"
STALL_DEADLINES = "actions.stall"


async def run_grpc(settings: Settings) -> None:
    redis = connect_redis(settings)
    transport = AioKafkaTransport(settings.kafka_bootstrap, client_id="actions-grpc")
    api = ActionsApi(
        ActionsReadModel(redis),
        EventPublisher(transport.send, SOURCE),
        clock_from_settings(settings.clock, redis),
        settings.read_your_write_timeout_seconds,
    )

    def register(server):
        actions_service_pb2_grpc.add_ActionsServiceServicer_to_server(api, server)
        return [actions_service_pb2.DESCRIPTOR.services_by_name["ActionsService"].full_name]

    async def stop() -> None:
        await transport.stop()
        await redis.aclose()

    await serve(settings, register, on_start=transport.start, on_stop=stop)


def build_worker(settings: Settings) -> faust.App:
    app = create_faust_app("actions", settings)
    redis = connect_redis(settings)
    publisher = EventPublisher(faust_send(app), SOURCE)
    stall = DeadlineStore(redis, STALL_DEADLINES)
    streams.install(
        app,
        ActionsProjector(ActionsReadModel(redis), stall, publisher),
        StallSweeper(stall, publisher, clock_from_settings(settings.clock, redis)),
    )
    return app

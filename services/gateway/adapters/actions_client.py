"""The actions service over gRPC: one `grpc.aio` channel per process, shared by all
requests, with the OpenTelemetry client interceptor so each HTTP request's trace
continues into the service."""

from __future__ import annotations

import logging
from typing import Protocol

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

from dealpulse.actions.v1 import actions_service_pb2, actions_service_pb2_grpc
from kernel.grpc_server import bearer_metadata

log = logging.getLogger(__name__)

SERVICE_NAME = actions_service_pb2.DESCRIPTOR.services_by_name["ActionsService"].full_name


class ActionsPort(Protocol):
    """What the gateway needs from the actions service (tests supply a fake)."""

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        """Invoke the RPC named as in the .proto (e.g. "CreateAccount") as the caller
        the token identifies. Errors surface as `grpc.aio.AioRpcError`."""
        ...

    async def is_serving(self) -> bool: ...

    async def close(self) -> None: ...


class GrpcActionsClient:
    def __init__(self, address: str, *, deadline_seconds: float, health_timeout_seconds: float = 2.0) -> None:
        # Readiness probes check health every few seconds: tracing them would be noise.
        tracing = aio_client_interceptors(filter_=filters.negate(filters.health_check()))
        self._channel = grpc.aio.insecure_channel(address, interceptors=tracing)
        self._stub = actions_service_pb2_grpc.ActionsServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._deadline = deadline_seconds
        self._health_timeout = health_timeout_seconds

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        rpc = getattr(self._stub, method)
        # The service re-verifies the token and takes the tenant from it.
        return await rpc(request, metadata=bearer_metadata(token), timeout=self._deadline)

    async def is_serving(self) -> bool:
        try:
            reply = await self._health.Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=self._health_timeout
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("actions health check failed: %s %s", exc.code().name, exc.details())
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self._channel.close()

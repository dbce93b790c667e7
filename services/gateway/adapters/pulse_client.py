"""The pulse dashboard service over gRPC (one shared `grpc.aio` channel, traced)."""

from __future__ import annotations

from typing import Protocol

import grpc
from google.protobuf.message import Message
from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

from dealpulse.pulse.v1 import pulse_service_pb2_grpc
from kernel.grpc_server import bearer_metadata


class PulsePort(Protocol):
    async def call(self, method: str, request: Message, *, token: str) -> Message:
        """Invoke a PulseService RPC ("GetHealthBoard", "GetDrillDown") as the token's caller."""
        ...

    async def close(self) -> None: ...


class GrpcPulseClient:
    def __init__(self, address: str, *, deadline_seconds: float = 10.0) -> None:
        tracing = aio_client_interceptors(filter_=filters.negate(filters.health_check()))
        self._channel = grpc.aio.insecure_channel(address, interceptors=tracing)
        self._stub = pulse_service_pb2_grpc.PulseServiceStub(self._channel)
        self._deadline = deadline_seconds

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        # pulse re-verifies the token and takes the tenant from it.
        return await getattr(self._stub, method)(request, metadata=bearer_metadata(token), timeout=self._deadline)

    async def close(self) -> None:
        await self._channel.close()

"""The actions service's LeadsService over gRPC (same process and address as
ActionsService, its own stub)."""

from __future__ import annotations

from typing import Protocol

import grpc
from google.protobuf.message import Message
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from dealpulse.actions.v1 import leads_service_pb2_grpc
from kernel.grpc_server import bearer_metadata


class LeadsPort(Protocol):
    async def call(self, method: str, request: Message, *, token: str) -> Message:
        """Invoke the LeadsService RPC named as in the .proto as the token's caller.
        Errors surface as `grpc.aio.AioRpcError`."""
        ...

    async def close(self) -> None: ...


class GrpcLeadsClient:
    def __init__(self, address: str, *, deadline_seconds: float) -> None:
        self._channel = grpc.aio.insecure_channel(address, interceptors=aio_client_interceptors())
        self._stub = leads_service_pb2_grpc.LeadsServiceStub(self._channel)
        self._deadline = deadline_seconds

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        # The service re-verifies the token and takes the tenant from it.
        return await getattr(self._stub, method)(request, metadata=bearer_metadata(token), timeout=self._deadline)

    async def close(self) -> None:
        await self._channel.close()

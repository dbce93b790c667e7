"""The audit service over gRPC (one shared, traced `grpc.aio` channel): the audit log,
approvals and anomaly reports, always on behalf of the caller's own token."""

from __future__ import annotations

from typing import Protocol

import grpc
from google.protobuf.message import Message
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from dealpulse.audit.v1 import audit_service_pb2_grpc
from kernel.grpc_server import bearer_metadata


class AuditPort(Protocol):
    async def call(self, method: str, request: Message, *, token: str) -> Message:
        """Invoke the AuditService RPC named as in the .proto as the token's caller.
        Errors surface as `grpc.aio.AioRpcError`."""
        ...

    async def close(self) -> None: ...


class GrpcAuditClient:
    def __init__(self, address: str, *, deadline_seconds: float) -> None:
        self._channel = grpc.aio.insecure_channel(address, interceptors=aio_client_interceptors())
        self._stub = audit_service_pb2_grpc.AuditServiceStub(self._channel)
        self._deadline = deadline_seconds

    async def call(self, method: str, request: Message, *, token: str) -> Message:
        return await getattr(self._stub, method)(request, metadata=bearer_metadata(token), timeout=self._deadline)

    async def close(self) -> None:
        await self._channel.close()

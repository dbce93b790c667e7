"""`grpc.aio` server bootstrap: health, reflection, OpenTelemetry and auth
interceptors, graceful shutdown on SIGTERM.

Health goes NOT_SERVING first on shutdown so Kubernetes stops routing before the
server drains in-flight calls.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Mapping

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from kernel.auth import AuthError, Principal, TokenVerifier
from kernel.config import Settings

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal")
_token: contextvars.ContextVar[str] = contextvars.ContextVar("token")
_UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def current_principal() -> Principal:
    """The verified caller of the RPC being served."""
    return _principal.get()


def current_token() -> str:
    """The verified bearer token of the RPC being served, for calls made on the
    caller's behalf (audit Check decides, and records, for the end user)."""
    return _token.get()


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Verifies the bearer token on every business call and exposes the principal.

    The check runs inside the wrapped handler (not in `intercept_service`) so the
    principal is set in the context the handler actually runs in.
    """

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(_UNAUTHENTICATED_PREFIXES):
            return handler
        if handler.unary_unary is None:
            raise NotImplementedError("only unary business RPCs are authenticated so far")
        metadata = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary
        verifier = self._verifier

        async def authenticated(request, context: grpc.aio.ServicerContext):
            header = metadata.get("authorization", "")
            scheme, _, token = header.partition(" ")
            try:
                if scheme.lower() != "bearer":
                    raise AuthError("missing bearer token")
                # Fetching signing keys (JWKS) is blocking network I/O: keep it off the loop.
                principal = (
                    await asyncio.to_thread(verifier.verify, token.strip())
                    if verifier.fetches_keys
                    else verifier.verify(token.strip())
                )
            except AuthError as exc:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            _principal.set(principal)
            _token.set(token.strip())
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            authenticated,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def status_for(error: Exception, statuses: Mapping[type, grpc.StatusCode]) -> grpc.StatusCode:
    """The status of the error's nearest mapped class, so a service's refined errors
    keep their family's code; INTERNAL for anything unmapped."""
    return next((statuses[cls] for cls in type(error).__mro__ if cls in statuses), grpc.StatusCode.INTERNAL)


Register = Callable[[grpc.aio.Server], Iterable[str]]


async def serve(
    settings: Settings,
    register: Register,
    *,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    grace_seconds: float = 20.0,
) -> None:
    """Run a gRPC server until SIGTERM/SIGINT. `register` adds the business servicers
    and returns their full service names (for health and reflection)."""
    server = grpc.aio.server(interceptors=[aio_server_interceptor(), AuthInterceptor(TokenVerifier(settings))])
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = list(register(server))
    if settings.grpc_reflection:
        reflection.enable_server_reflection(
            [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
        )
    server.add_insecure_port(f"0.0.0.0:{settings.grpc_port}")
    if on_start:
        await on_start()
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC serving %s on port %d", names or "health only", settings.grpc_port)

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()

    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    await server.stop(grace_seconds)
    if on_stop:
        await on_stop()


def run_placeholder(service: str, settings: Settings) -> None:
    """Boot a service that has no API yet: it answers gRPC health and nothing else."""
    from kernel.telemetry import setup_logging, setup_tracing

    setup_logging()
    setup_tracing(service)
    asyncio.run(serve(settings, lambda server: []))

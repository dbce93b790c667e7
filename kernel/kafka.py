"""Typed event publishing: one envelope, one PRODUCER span, acknowledged by all
in-sync replicas. The transport is aiokafka for command handlers and Faust's producer
inside stream workers; both go through `EventPublisher` so records look the same."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from kernel.envelope import Envelope, Headers
from kernel.topics import TopicSpec

_tracer = trace.get_tracer("dealpulse.kafka")

# (topic, key, value, headers) -> (partition, offset) once the broker acknowledged it.
Send = Callable[[str, bytes, bytes, Headers], Awaitable[tuple[int, int]]]


class EventPublisher:
    def __init__(self, send: Send, source: str) -> None:
        self._send = send
        self._source = source

    async def publish(
        self,
        spec: TopicSpec,
        payload: Message,
        *,
        key: str,
        tenant_id: str,
        event_time: datetime,
        event_id: str | None = None,
    ) -> tuple[Envelope, int, int]:
        """Append and wait for the acknowledgement; returns (envelope, partition, offset)."""
        if payload.DESCRIPTOR.full_name != spec.schema:
            raise TypeError(f"{payload.DESCRIPTOR.full_name} does not belong on {spec.name}")
        envelope = Envelope.for_topic(
            spec, source=self._source, subject=key, tenant_id=tenant_id, time=event_time, event_id=event_id
        )
        with _tracer.start_as_current_span(
            f"{spec.name} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": spec.name,
                "messaging.message.id": envelope.event_id,
                "messaging.kafka.message.key": key,
            },
        ) as span:
            # Headers are built inside the span so `traceparent` names it as the parent.
            partition, offset = await self._send(spec.name, key.encode(), payload.SerializeToString(), envelope.to_headers())
            span.set_attribute("messaging.destination.partition.id", str(partition))
            span.set_attribute("messaging.kafka.offset", offset)
        return envelope, partition, offset


class AioKafkaTransport:
    """Idempotent producer with acks=all: an acknowledged event survives a broker restart."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2, client_id=client_id
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, topic: str, key: bytes, value: bytes, headers: Headers) -> tuple[int, int]:
        metadata = await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)
        return metadata.partition, metadata.offset

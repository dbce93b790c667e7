"""Typed event publishing: one envelope, one PRODUCER span, acknowledged by all
in-sync replicas. The transport is aiokafka for command handlers and Faust's producer
inside stream workers; both go through `EventPublisher` so records look the same.
`BatchPublisher` writes the same records many at a time, for the raw-aiokafka hot path."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from kernel.envelope import CONTENT_TYPE, SPEC_VERSION, Envelope, Headers
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


@dataclass(frozen=True)
class OutgoingEvent:
    """One event for `BatchPublisher.publish` (the arguments of `EventPublisher.publish`)."""

    spec: TopicSpec
    payload: Message
    key: str
    tenant_id: str
    event_time: datetime
    event_id: str


PublishAll = Callable[[Sequence[OutgoingEvent]], Awaitable[object]]


def publishing_each(publisher: EventPublisher) -> PublishAll:
    """`BatchPublisher.publish`'s contract on an `EventPublisher`: every event sent at
    once, one record at a time, returning once all are acknowledged."""

    async def publish_all(events: Sequence[OutgoingEvent]) -> int:
        await asyncio.gather(
            *(
                publisher.publish(e.spec, e.payload, key=e.key, tenant_id=e.tenant_id, event_time=e.event_time, event_id=e.event_id)
                for e in events
            )
        )
        return len(events)

    return publish_all


class _HeaderTemplate:
    """A topic's envelope headers with the per-topic constants encoded once; the same
    headers, in the same order, as `Envelope.for_topic(...).to_headers()`."""

    def __init__(self, spec: TopicSpec, source: str) -> None:
        self.spec = spec
        self._head = (("ce_specversion", SPEC_VERSION.encode()),)
        self._type_source = (("ce_type", spec.event_type.encode()), ("ce_source", source.encode()))
        self._schema = ("ce_dataschema", spec.schema.encode())
        self._content_type = ("content-type", CONTENT_TYPE.encode())

    def headers(self, event: OutgoingEvent, trace_headers: Headers) -> Headers:
        return [
            *self._head,
            ("ce_id", event.event_id.encode()),
            *self._type_source,
            ("ce_time", _utc_text(event.event_time)),
            ("ce_subject", event.key.encode()),
            self._schema,
            ("ce_tenantid", event.tenant_id.encode()),
            self._content_type,
            *trace_headers,
        ]


_TIME_TEXTS: dict[datetime, bytes] = {}


def _utc_text(at: datetime) -> bytes:
    """`ce_time` of an event time. A worker's outputs share few event times (a visit's
    revisions its start, a tenant's indicator changes its latest event time): formatting
    is a third of a record's headers, a look-up a tenth of that."""
    text = _TIME_TEXTS.get(at)
    if text is None:
        if len(_TIME_TEXTS) >= 100_000:
            _TIME_TEXTS.clear()  # only caps memory
        text = _TIME_TEXTS[at] = at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z").encode()
    return text


class BatchPublisher:
    """Publishes many events at once, for stream workers whose per-event cost matters.

    The records are the ones `EventPublisher` writes (same envelope headers, same
    partition for a key: aiokafka's default murmur2 partitioner), but they are appended to
    per-partition record batches by hand, which skips the producer's per-message
    bookkeeping, and one PRODUCER span covers the whole call: every record's `traceparent`
    names that span, which ends when the last record is acknowledged (the producer's acks
    setting; the workers use acks=all).

    `publish` appends and waits for the acknowledgements. `append` returns as soon as the
    records are in the producer's hands, with the acknowledgement still to await: a worker
    can work on its next input while the broker acknowledges the last outputs."""

    def __init__(self, producer: AIOKafkaProducer, source: str) -> None:
        self._producer_of: Callable[[], AIOKafkaProducer] = lambda: producer
        self._source = source
        self._templates: dict[str, _HeaderTemplate] = {}
        self._partitions: dict[str, list[int]] = {}
        # topic -> key -> partition: maps of strings to ints, which the garbage collector does
        # not track (a (topic, key) tuple key would make it re-scan the whole map each time)
        self._partition_of: dict[str, dict[str, int]] = {}

    @classmethod
    def late_bound(cls, producer_of: Callable[[], AIOKafkaProducer], source: str) -> "BatchPublisher":
        """One that asks `producer_of` for the producer at each publish: a Faust worker's
        producer exists only once the app runs."""
        publisher = cls(None, source)  # type: ignore[arg-type]
        publisher._producer_of = producer_of
        return publisher

    async def publish(self, events: Sequence[OutgoingEvent]) -> int:
        """Append all events in order (per partition) and wait for the acknowledgements;
        returns how many were published."""
        return await (await self.append(events))

    async def append(self, events: Sequence[OutgoingEvent]) -> "asyncio.Future[int]":
        """Append all events in order (per partition); returns once the producer holds
        them, with a future of their acknowledgement (how many were published, or the first
        failure). Nothing is appended when an event is invalid (wrong schema for its topic,
        naive event time)."""
        if not events:
            done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            done.set_result(0)
            return done
        by_partition: dict[tuple[str, int], list[OutgoingEvent]] = {}
        partition_of = self._partition_of
        for event in events:
            spec = event.spec
            if event.payload.DESCRIPTOR.full_name != spec.schema:
                raise TypeError(f"{event.payload.DESCRIPTOR.full_name} does not belong on {spec.name}")
            if event.event_time.tzinfo is None:
                raise ValueError("event time must be timezone-aware")
            partition = partition_of.get(spec.name, _NO_KEYS).get(event.key)
            if partition is None:
                partition = await self._partition(spec.name, event.key)
            by_partition.setdefault((spec.name, partition), []).append(event)
        topics = sorted({topic for topic, _ in by_partition})
        span = _tracer.start_span(
            f"{', '.join(topics)} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topics[0] if len(topics) == 1 else ", ".join(topics),
                "messaging.batch.message_count": len(events),
            },
        )
        try:
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            trace_headers = [(k, v.encode()) for k, v in carrier.items()]
            acks = [
                ack
                for (topic, partition), records in by_partition.items()
                for ack in await self._send(topic, partition, records, trace_headers)
            ]
        except BaseException as exc:
            _end(span, exc)
            raise
        return asyncio.ensure_future(_acknowledged(acks, span, len(events)))

    async def _send(
        self, topic: str, partition: int, records: list[OutgoingEvent], trace_headers: Headers
    ) -> list[asyncio.Future]:
        acks = []
        producer = self._producer_of()
        template = self._template(records[0].spec)
        batch, count = producer.create_batch(), 0
        for event in records:
            key = event.key.encode()
            value = event.payload.SerializeToString()
            headers = template.headers(event, trace_headers)
            while batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                if count == 0:
                    raise ValueError(f"event {event.event_id} on {topic} is larger than a record batch")
                acks.append(await producer.send_batch(batch, topic, partition=partition))
                batch, count = producer.create_batch(), 0
            count += 1
        acks.append(await producer.send_batch(batch, topic, partition=partition))
        return acks

    def _template(self, spec: TopicSpec) -> _HeaderTemplate:
        template = self._templates.get(spec.name)
        if template is None or template.spec != spec:
            template = self._templates[spec.name] = _HeaderTemplate(spec, self._source)
        return template

    async def _partition(self, topic: str, key: str) -> int:
        partitions = self._partitions.get(topic)
        if partitions is None:  # read once: the topic registry fixes each topic's partition count
            partitions = self._partitions[topic] = sorted(await self._producer_of().partitions_for(topic))
        partition = partitions[(murmur2(key.encode()) & 0x7FFFFFFF) % len(partitions)]
        cached = self._partition_of.setdefault(topic, {})
        if len(cached) >= _PARTITION_CACHE_SIZE:
            cached.clear()  # keys are bounded in practice; this only caps memory
        cached[key] = partition
        return partition


async def _acknowledged(acks: list[asyncio.Future], span: trace.Span, count: int) -> int:
    try:
        await asyncio.gather(*acks)
    except BaseException as exc:
        _end(span, exc)
        raise
    _end(span, None)
    return count


def _end(span: trace.Span, exc: BaseException | None) -> None:
    if exc is not None:
        span.record_exception(exc)
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    span.end()


_NO_KEYS: dict[str, int] = {}
_PARTITION_CACHE_SIZE = 200_000

_MURMUR_M = 0x5BD1E995
_U32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's `Utils.murmur2`, aiokafka's `DefaultPartitioner`),
    a word at a time: the same hashes as `aiokafka.partitioner.murmur2` at well under half
    its cost, which a burst pays once per new key."""
    length = len(data)
    h = 0x9747B28C ^ length
    words = length // 4
    for k in struct.unpack_from(f"<{words}I", data) if words else ():
        k = (k * _MURMUR_M) & _U32
        k ^= k >> 24
        h = ((h * _MURMUR_M) & _U32) ^ ((k * _MURMUR_M) & _U32)
    tail = length & 3
    if tail:
        base = length & ~3
        if tail >= 3:
            h ^= data[base + 2] << 16
        if tail >= 2:
            h ^= data[base + 1] << 8
        h = ((h ^ data[base]) * _MURMUR_M) & _U32
    h ^= h >> 13
    h = (h * _MURMUR_M) & _U32
    return h ^ (h >> 15)

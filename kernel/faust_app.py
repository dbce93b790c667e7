"""Faust app factory: the settings every Dealpulse stream worker must share.

At-least-once processing (Faust's exactly-once is experimental with open duplicate
bugs); consumers de-duplicate instead. Replication factor is explicit because Faust's
default of 1 silently loses internal topics when a broker dies.
"""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import faust
from faust.contrib.opentelemetry import setup_opentelemetry
from opentelemetry import propagate, trace

from kernel.config import Settings
from kernel.envelope import dead_letter_headers, header_pairs
from kernel.topics import TopicSpec

_tracer = trace.get_tracer(__name__)
log = logging.getLogger(__name__)


def create_faust_app(service: str, settings: Settings) -> faust.App:
    datadir = Path(settings.faust_data_dir) / service
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"dealpulse-{service}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        processing_guarantee="at_least_once",
        topic_replication_factor=settings.kafka_replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        datadir=str(datadir),
        web_port=settings.faust_web_port,
        web_host="0.0.0.0",
        broker_commit_every=100,
        broker_commit_interval=1.0,
        producer_acks=-1,
    )
    setup_opentelemetry(app)
    _add_readiness_page(app)
    return app


@contextmanager
def event_process_span(topic: str, partition: int, offset: int, headers) -> Iterator[None]:
    """The per-record `<topic> process` span, child of the producer's `traceparent`.

    Faust's OpenTelemetry sensor opens this span only around events a stream yields
    one by one; whatever takes records in batches (a batch agent, `BatchConsumer`)
    opens it per record here, so a trace still runs from the request that caused an
    event into its processing."""
    carrier = {
        key: value.decode("latin-1") if isinstance(value, bytes) else str(value)
        for key, value in header_pairs(headers)
    }
    with _tracer.start_as_current_span(
        f"{topic} process",
        context=propagate.extract(carrier),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.message.offset": offset,
        },
    ):
        yield


def sweep_on_timer(app: faust.App, name: str, sweeps: Sequence[Callable[[], Awaitable[int]]], interval: float) -> None:
    """Run each deadline sweep (it claims due deadlines and produces their expiry events,
    returning how many fired) every `interval` seconds on every worker; the claim in
    Redis hands each deadline to one worker.

    An exception escaping a Faust timer stops the whole worker, so a sweep that fails
    (Redis or the broker away) is logged and retried next tick; deadlines it claimed but
    did not fire come back when their lease runs out."""

    async def sweep() -> None:
        for run in sweeps:
            try:
                fired = await run()
            except Exception:
                log.exception("%s failed; retrying in %.1fs", name, interval)
                continue
            if fired:
                log.info("%s fired %d deadlines", name, fired)

    app.timer(interval=interval, name=name)(sweep)


def add_readiness_check(app: faust.App, check: Callable[[], bool]) -> None:
    """One more condition of `/ready`: a consumer the worker runs beside Faust's own
    (e.g. a `BatchConsumer`) that has not got its partitions yet."""
    _readiness_checks.setdefault(app, []).append(check)


_readiness_checks: weakref.WeakKeyDictionary[faust.App, list[Callable[[], bool]]] = weakref.WeakKeyDictionary()


def _add_readiness_page(app: faust.App) -> None:
    """`/ready` answers 200 only once this worker owns partitions and has finished
    rebalancing and table recovery, and every `add_readiness_check` holds; Faust's web
    root answers long before that."""

    @app.page("/ready")
    async def ready(self, request):
        assigned = app.consumer.assignment() if app.consumer else set()
        state = {
            "rebalancing": bool(app.rebalancing),
            "recovering": bool(app.in_recovery),
            "assigned_partitions": len(assigned),
            "other_consumers_ready": all(check() for check in _readiness_checks.get(app, ())),
        }
        is_ready = assigned and not state["rebalancing"] and not state["recovering"] and state["other_consumers_ready"]
        return self.json(state, status=200 if is_ready else 503)


def registry_topic(app: faust.App, spec: TopicSpec) -> faust.TopicT:
    """A registry topic as raw bytes: the envelope lives in headers, decoding is ours."""
    return app.topic(
        spec.name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=spec.partitions,
        internal=False,
    )


def faust_send(app: faust.App):
    """An `EventPublisher` transport on the worker's own producer (awaits the ack)."""

    async def send(topic: str, key: bytes, value: bytes, headers) -> tuple[int, int]:
        pending = await app.topic(topic, key_serializer="raw", value_serializer="raw").send(
            key=key, value=value, headers=headers
        )
        metadata = await pending
        return metadata.partition, metadata.offset

    return send


async def send_dead_letter(app: faust.App, spec: TopicSpec, event, reason: str) -> None:
    """Park an undecodable event of a Faust stream, with why and where it failed."""
    await send_dead_letter_record(app, spec, event.message, reason)


async def send_dead_letter_record(app: faust.App, spec: TopicSpec, record, reason: str) -> None:
    """Park a record (a Faust event's `message` or an aiokafka `ConsumerRecord`: both
    have topic, partition, offset, key, value and headers) on the topic's dead-letter
    twin, with why and where it failed, on the worker's own producer."""
    pending = await app.topic(spec.dead_letter.name, key_serializer="raw", value_serializer="raw").send(
        key=record.key,
        value=record.value,
        headers=dead_letter_headers(
            record.headers, reason=reason, topic=record.topic, partition=record.partition, offset=record.offset
        ),
    )
    await pending  # acknowledged before the source offset may be committed


def freeze_startup_heap() -> None:
    """Leave everything alive now out of the cyclic collector's passes. Called once a
    worker is built: Faust, aiokafka, protobuf and gRPC objects live as long as the
    process, and a full collection walking them took ~90 ms in the middle of a burst."""
    gc.collect()
    gc.freeze()

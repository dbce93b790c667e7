"""BatchPublisher writes the records EventPublisher would, many at a time."""

import asyncio
import random
from datetime import datetime, timedelta, timezone

import pytest
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import Envelope
from kernel.kafka import BatchPublisher, OutgoingEvent, publishing_each
from kernel.topics import ACCOUNT, OPPORTUNITY

T = datetime(2026, 11, 27, 16, 30, tzinfo=timezone(timedelta(hours=8)))
PARTITIONS = 6


class FakeBatch:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[tuple[bytes, bytes, list]] = []

    def append(self, *, key, value, timestamp, headers):
        if len(self.records) >= self.capacity:
            return None
        self.records.append((key, value, list(headers)))
        return object()


class FakeProducer:
    """create_batch/send_batch/partitions_for, recording what was sent where."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self.sent: list[tuple[str, int, FakeBatch]] = []

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.capacity)

    async def send_batch(self, batch, topic, *, partition):
        self.sent.append((topic, partition, batch))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def partitions_for(self, topic):
        return set(range(PARTITIONS))


def event(i: int, spec=OPPORTUNITY) -> OutgoingEvent:
    payload = (
        events.OpportunityEvent(tenant_id="t", opportunity_id=f"o{i}")
        if spec is OPPORTUNITY
        else events.AccountEvent(tenant_id="t", account_id=f"a{i}")
    )
    return OutgoingEvent(spec, payload, key=f"t/{i % 4}", tenant_id="t", event_time=T, event_id=f"id-{i}")


@pytest.fixture(scope="module")
def exporter():
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_records_carry_the_envelope_headers_and_land_on_the_keys_partition(monkeypatch, exporter):
    provider, spans = exporter
    spans.clear()
    monkeypatch.setattr("kernel.kafka._tracer", provider.get_tracer("test"))
    producer = FakeProducer()
    published = await BatchPublisher(producer, "dealpulse/test").publish([event(i) for i in range(10)])

    assert published == 10
    [span] = spans.get_finished_spans()
    assert span.kind is trace.SpanKind.PRODUCER
    assert span.attributes["messaging.batch.message_count"] == 10
    traceparent = f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{span.context.trace_flags:02x}".encode()
    seen = []
    for topic, partition, batch in producer.sent:
        assert topic == OPPORTUNITY.name
        for key, value, headers in batch.records:
            assert partition == DefaultPartitioner()(key, list(range(PARTITIONS)), list(range(PARTITIONS)))
            decoded = events.OpportunityEvent.FromString(value)
            expected = Envelope.for_topic(
                OPPORTUNITY, source="dealpulse/test", subject=key.decode(), tenant_id="t", time=T,
                event_id=f"id-{decoded.opportunity_id[1:]}",
            ).to_headers()
            assert headers == expected + [("traceparent", traceparent)]
            seen.append(decoded.opportunity_id)
    assert sorted(seen) == sorted(f"o{i}" for i in range(10))
    # per partition, the order of the input is kept
    for _, _, batch in producer.sent:
        ids = [int(events.OpportunityEvent.FromString(v).opportunity_id[1:]) for _, v, _ in batch.records]
        assert ids == sorted(ids)


async def test_without_tracing_the_headers_are_the_envelope_alone(monkeypatch):
    monkeypatch.setattr("kernel.kafka._tracer", trace.NoOpTracer())
    producer = FakeProducer()
    await BatchPublisher(producer, "dealpulse/test").publish([event(1)])
    [(_, _, batch)] = producer.sent
    [(key, _, headers)] = batch.records
    assert headers == Envelope.for_topic(
        OPPORTUNITY, source="dealpulse/test", subject="t/1", tenant_id="t", time=T, event_id="id-1"
    ).to_headers()


async def test_a_full_record_batch_is_sent_and_a_new_one_started():
    producer = FakeProducer(capacity=3)
    await BatchPublisher(producer, "s").publish([OutgoingEvent(OPPORTUNITY, events.OpportunityEvent(tenant_id="t"),
                                                               key="t/same", tenant_id="t", event_time=T,
                                                               event_id=f"e{i}") for i in range(7)])
    assert [len(b.records) for _, _, b in producer.sent] == [3, 3, 1]
    assert len({(t, p) for t, p, _ in producer.sent}) == 1


async def test_several_topics_in_one_call():
    producer = FakeProducer()
    await BatchPublisher(producer, "s").publish([event(1), event(2, ACCOUNT)])
    assert {t for t, _, _ in producer.sent} == {OPPORTUNITY.name, ACCOUNT.name}


async def test_a_payload_of_the_wrong_schema_is_refused_before_anything_is_sent():
    producer = FakeProducer()
    wrong = OutgoingEvent(ACCOUNT, events.OpportunityEvent(), key="k", tenant_id="t", event_time=T, event_id="x")
    with pytest.raises(TypeError):
        await BatchPublisher(producer, "s").publish([event(1), wrong])
    assert producer.sent == []


async def test_naive_event_time_is_refused_before_anything_is_sent():
    producer = FakeProducer()
    naive = OutgoingEvent(OPPORTUNITY, events.OpportunityEvent(), key="k", tenant_id="t",
                          event_time=datetime(2026, 1, 1), event_id="x")
    with pytest.raises(ValueError):
        await BatchPublisher(producer, "s").publish([event(1), naive])
    assert producer.sent == []


async def test_nothing_to_publish_sends_nothing():
    producer = FakeProducer()
    assert await BatchPublisher(producer, "s").publish([]) == 0
    assert producer.sent == []


def test_murmur2_hashes_every_length_as_the_kafka_client_does():
    from aiokafka.partitioner import murmur2 as reference

    from kernel.kafka import murmur2

    rng = random.Random(7)
    for length in range(0, 70):
        for _ in range(50):
            data = bytes(rng.randrange(256) for _ in range(length))
            assert murmur2(data) == reference(data)


async def test_a_late_bound_publisher_asks_for_the_producer_when_it_publishes():
    producers: list[FakeProducer] = []
    publisher = BatchPublisher.late_bound(lambda: producers[-1], "s")
    producers.append(FakeProducer())  # the app started after the publisher was built
    assert await publisher.publish([event(1), event(2)]) == 2
    assert sum(len(batch.records) for _, _, batch in producers[0].sent) == 2


async def test_publishing_each_sends_every_event_through_an_event_publisher():
    sent = []

    class Recording:
        async def publish(self, spec, payload, *, key, tenant_id, event_time, event_id=None):
            sent.append((spec.name, key, event_id))

    assert await publishing_each(Recording())([event(1), event(2, ACCOUNT)]) == 2
    assert sent == [(OPPORTUNITY.name, "t/1", "id-1"), (ACCOUNT.name, "t/2", "id-2")]


class HeldAcks(FakeProducer):
    """Acknowledges only when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.acks: list[asyncio.Future] = []

    async def send_batch(self, batch, topic, *, partition):
        self.sent.append((topic, partition, batch))
        self.acks.append(asyncio.get_running_loop().create_future())
        return self.acks[-1]


async def test_append_hands_the_records_over_at_once_and_the_span_ends_with_the_last_ack(monkeypatch, exporter):
    provider, spans = exporter
    spans.clear()
    monkeypatch.setattr("kernel.kafka._tracer", provider.get_tracer("test"))
    producer = HeldAcks()
    acknowledged = await BatchPublisher(producer, "s").append([event(i) for i in range(10)])

    assert sum(len(batch.records) for _, _, batch in producer.sent) == 10
    await asyncio.sleep(0)
    assert not acknowledged.done() and spans.get_finished_spans() == ()
    for ack in producer.acks:
        ack.set_result(None)
    assert await acknowledged == 10
    [span] = spans.get_finished_spans()
    traceparent = f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{span.context.trace_flags:02x}".encode()
    assert all(headers[-1] == ("traceparent", traceparent) for _, _, b in producer.sent for _, _, headers in b.records)


async def test_a_failed_acknowledgement_fails_the_append_and_its_span(monkeypatch, exporter):
    provider, spans = exporter
    spans.clear()
    monkeypatch.setattr("kernel.kafka._tracer", provider.get_tracer("test"))
    producer = HeldAcks()
    acknowledged = await BatchPublisher(producer, "s").append([event(i) for i in range(10)])
    producer.acks[0].set_exception(RuntimeError("broker said no"))
    for ack in producer.acks[1:]:
        ack.set_result(None)
    with pytest.raises(RuntimeError, match="broker said no"):
        await acknowledged
    [span] = spans.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR

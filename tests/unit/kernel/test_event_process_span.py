"""A batch consumer's per-record span continues the producer's trace."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kernel.faust_app import event_process_span

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
PARENT_SPAN_ID = 0xB7AD6B7169203331


def _record(headers):
    return ("actions.opportunity.v1", 3, 42, headers)


def _tracing(monkeypatch):
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr("kernel.faust_app._tracer", provider.get_tracer("test"))
    return exporter


def test_the_span_is_a_consumer_child_of_the_traceparent_header(monkeypatch):
    exporter = _tracing(monkeypatch)
    traceparent = f"00-{TRACE_ID:032x}-{PARENT_SPAN_ID:016x}-01".encode()
    with event_process_span(*_record([("ce_id", b"e-1"), ("traceparent", traceparent)])):
        inside = trace.get_current_span()
    (span,) = exporter.get_finished_spans()
    assert span.name == "actions.opportunity.v1 process"
    assert span.kind == trace.SpanKind.CONSUMER
    assert span.context.trace_id == TRACE_ID
    assert span.parent.span_id == PARENT_SPAN_ID
    assert inside.get_span_context().span_id == span.context.span_id
    assert span.attributes["messaging.kafka.message.offset"] == 42


def test_without_a_traceparent_the_span_starts_a_trace(monkeypatch):
    exporter = _tracing(monkeypatch)
    with event_process_span(*_record({"ce_id": b"e-1"})):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.parent is None

import uuid
from datetime import datetime, timezone

import pytest

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import _ID_NAMESPACE, Envelope, EnvelopeError, decode, dead_letter_headers, deterministic_event_id
from kernel.topics import ALERT_RAISED, OPPORTUNITY

T = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)


def envelope():
    return Envelope.for_topic(OPPORTUNITY, source="dealpulse/actions", subject="t/o1", tenant_id="t", time=T)


def test_headers_follow_the_cloudevents_kafka_binary_binding():
    headers = dict(envelope().to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"io.dealpulse.actions.opportunity.v1"
    assert headers["ce_time"] == b"2026-11-27T08:30:00Z"
    assert headers["ce_dataschema"] == b"dealpulse.actions.v1.OpportunityEvent"
    assert headers["content-type"] == b"application/protobuf"


def test_round_trip():
    env = envelope()
    payload = events.OpportunityEvent(tenant_id="t", opportunity_id="o1")
    decoded_env, decoded = decode(events.OpportunityEvent, payload.SerializeToString(), env.to_headers())
    assert decoded_env == env
    assert decoded == payload


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h: [x for x in h if x[0] != "ce_id"], "missing header ce_id"),
        (lambda h: [(k, b"text/plain" if k == "content-type" else v) for k, v in h], "content-type"),
        (lambda h: [(k, b"yesterday" if k == "ce_time" else v) for k, v in h], "RFC 3339"),
    ],
)
def test_bad_headers_are_rejected_with_the_reason(mutate, reason):
    with pytest.raises(EnvelopeError, match=reason):
        decode(events.OpportunityEvent, b"", mutate(envelope().to_headers()))


def test_payload_of_another_schema_is_rejected():
    with pytest.raises(EnvelopeError, match="ce_dataschema"):
        decode(events.AlertRaised, b"", envelope().to_headers())


def test_garbage_payload_is_rejected():
    with pytest.raises(EnvelopeError, match="not a valid"):
        decode(events.OpportunityEvent, b"\xff\xff\xff", envelope().to_headers())


def test_naive_event_time_is_refused():
    with pytest.raises(ValueError):
        Envelope.for_topic(ALERT_RAISED, source="s", subject="k", tenant_id="t", time=datetime(2026, 1, 1))


def test_dead_letter_headers_keep_the_original_and_say_why():
    headers = dict(dead_letter_headers([("ce_id", b"1")], reason="bad", topic="x.y.v1", partition=2, offset=9))
    assert headers == {
        "ce_id": b"1",
        "dlq_reason": b"bad",
        "dlq_source_topic": b"x.y.v1",
        "dlq_source_partition": b"2",
        "dlq_source_offset": b"9",
    }


def test_deterministic_ids():
    assert deterministic_event_id("a", "b") == deterministic_event_id("a", "b")
    assert deterministic_event_id("a", "b") != deterministic_event_id("ab")


@pytest.mark.parametrize("parts", [("a", "b"), ("audit-record", "acme", "17"), ("客户", "😀", ""), ()])
def test_deterministic_ids_are_the_uuid5_ids_already_issued(parts):
    # Ids issued before the hand-written form must stay the ids of the same facts.
    assert deterministic_event_id(*parts) == str(uuid.uuid5(_ID_NAMESPACE, "\x1f".join(parts)))

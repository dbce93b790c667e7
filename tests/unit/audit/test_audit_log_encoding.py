"""The chain writer's shortcuts produce exactly what the plain encoders produce: the
log value built around the entry's bytes, the record headers filled from a
per-batch template, and entry times read without protobuf's helper."""

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from dealpulse.audit.v1 import events_pb2 as events
from kernel.envelope import Envelope, decode
from kernel.topics import AUDIT_RECORD
from services.audit.adapters.kafka_log import SOURCE, record_event_id, record_headers_template
from services.audit.adapters.messages import (
    draft_from_entry,
    entry_from_draft,
    json_value,
    moment,
    record_from_proto,
    record_to_proto,
    record_with_entry,
)
from services.audit.domain.audit_log import AuditDraft, ChainHead, PermissionDecision, Source, append
from services.audit.domain.errors import InvalidCommand

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def records(n: int, *, long: bool = False):
    head, out = ChainHead.genesis("acme"), []
    for i in range(1, n + 1):
        draft = AuditDraft(
            tenant_id="acme",
            event_id=f"ev-{i}",
            actor_id="rep-1",
            actor_roles=("rep", "manager"),
            entity_type="opportunity",
            entity_id=f"o{i}",
            field="grade",
            before="B",
            # Long values make the entry's length prefix take several bytes.
            after="客" * (5000 * i) if long else {"grade": "A", "n": i},
            occurred_at=T0 + timedelta(microseconds=i * 1001) if i % 2 else T0 + timedelta(seconds=i),
            source=Source.API,
            decision=PermissionDecision(True, "rep-may-edit", "SEC-SALES-2026-01", 1) if i == 2 else None,
        )
        record = append(head, draft)
        out.append((record, entry_from_draft(draft).SerializeToString()))
        head = ChainHead.of(record)
    return out


@pytest.mark.parametrize("long", [False, True])
def test_the_log_value_around_the_entry_bytes_is_the_record_message(long):
    for record, entry in records(3, long=long):
        value = record_with_entry(entry, record)
        assert events.AuditRecord.FromString(value) == record_to_proto(record)
        assert record_from_proto(events.AuditRecord.FromString(value)) == record


def test_the_record_headers_are_the_envelopes_headers():
    template = record_headers_template()
    for record, _ in records(3):
        expected = Envelope.for_topic(
            AUDIT_RECORD,
            source=SOURCE,
            subject=record.tenant_id,
            tenant_id=record.tenant_id,
            time=record.occurred_at,
            event_id=record_event_id(record),
        ).to_headers()
        filled = template.fill(record, record.tenant_id.encode())
        assert filled == expected
        value = record_with_entry(entry_from_draft_bytes(record), record)
        envelope, _ = decode(events.AuditRecord, value, filled)
        assert (envelope.event_id, envelope.time) == (record_event_id(record), record.occurred_at)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 2, 9, 0, 0, 0, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 11, 2, 9, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(999, 1, 2, 3, 4, 5, 600000, tzinfo=timezone.utc),
        datetime(1, 1, 1, 0, 0, 0, 0, tzinfo=timezone.utc),
    ],
)
def test_the_record_time_header_is_the_envelopes_in_any_time_zone(moment):
    record = dataclasses.replace(records(1)[0][0], occurred_at=moment)
    expected = Envelope.for_topic(
        AUDIT_RECORD, source=SOURCE, subject="acme", tenant_id="acme", time=moment, event_id=record_event_id(record)
    ).to_headers()
    assert record_headers_template().fill(record, b"acme") == expected


def entry_from_draft_bytes(record) -> bytes:
    return record_to_proto(record).entry.SerializeToString()


@pytest.mark.parametrize(
    "seconds, nanos",
    [
        (0, 0),
        (1_764_000_000, 999_999_999),
        (1_764_000_000, 1_500),
        (-1, 1),
        (-62_135_596_800, 0),
        (253_402_300_799, 999_999_999),
    ],
)
def test_a_timestamp_reads_as_protobuf_reads_it(seconds, nanos):
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    assert moment(stamp) == stamp.ToDatetime(tzinfo=timezone.utc)
    assert moment(stamp).tzinfo is timezone.utc


@pytest.mark.parametrize("seconds, nanos", [(0, -1), (0, 1_000_000_000), (-62_135_596_801, 0), (253_402_300_800, 0)])
def test_an_entry_with_an_impossible_time_is_refused_not_retried(seconds, nanos):
    entry = events.AuditEntry.FromString(records(1)[0][1])
    entry.occurred_at.seconds, entry.occurred_at.nanos = seconds, nanos
    with pytest.raises(InvalidCommand, match="occurred_at"):
        draft_from_entry(entry)


@pytest.mark.parametrize(
    "text",
    ['"A"', '"客户 \\u2028 \\" \\\\ 😀"', "null", "true", "0", "-9007199254740991", '{"z":[1,{"a":null}],"a":""}',
     "[]", ' "padded" ', '\n{"a": 1}\t', '"\\ud83d\\ude00"'],
)
def test_before_and_after_read_back_as_json_reads_them(text):
    assert json_value(text, "after_json") == json.loads(text)


@pytest.mark.parametrize(
    "text, problem",
    [("1.5", "float"), ("NaN", "not a JSON value"), ("[1] x", "Extra data"), (" ", "Expecting value"),
     ('"a" "b"', "Extra data"), ('"open', "Unterminated"), ("9007199254740992", "outside"), ("{1:2}", "property name")],
)
def test_before_and_after_that_are_not_one_json_value_are_refused(text, problem):
    with pytest.raises(InvalidCommand, match=problem):
        json_value(text, "after_json")

"""The chain writer's shortcuts produce exactly what the plain encoders produce: the
log value built around the entry's bytes, and the record headers filled from a
per-batch template."""

from datetime import datetime, timedelta, timezone

import pytest

from dealpulse.audit.v1 import events_pb2 as events
from kernel.envelope import Envelope, decode
from kernel.topics import AUDIT_RECORD
from services.audit.adapters.kafka_log import SOURCE, record_event_id, record_headers_template
from services.audit.adapters.messages import entry_from_draft, record_from_proto, record_to_proto, record_with_entry
from services.audit.domain.audit_log import AuditDraft, ChainHead, PermissionDecision, Source, append

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


def entry_from_draft_bytes(record) -> bytes:
    return record_to_proto(record).entry.SerializeToString()

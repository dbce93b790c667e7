"""Translation between the audit domain and its protobuf messages (wire and topics).

`before`/`after` travel as JSON text. Reading them back gives exactly the values that
were hashed (integers stay integers, no floats are allowed in), so a record read from
the topic or the store verifies.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from dealpulse.audit.v1 import events_pb2 as events
from services.audit.domain.audit_log import (
    AuditDraft,
    AuditRecord,
    JsonValue,
    PermissionDecision,
    Source,
    check_json_value,
)
from services.audit.domain.errors import InvalidCommand

_SOURCE_TO_PROTO = {
    Source.API: events.SOURCE_API,
    Source.WEBHOOK: events.SOURCE_WEBHOOK,
    Source.SYSTEM: events.SOURCE_SYSTEM,
}
_SOURCE_FROM_PROTO = {v: k for k, v in _SOURCE_TO_PROTO.items()}


def source_from_proto(value: int, *, default: Source | None = None) -> Source:
    if value == events.SOURCE_UNSPECIFIED and default is not None:
        return default
    try:
        return _SOURCE_FROM_PROTO[value]
    except KeyError:
        raise InvalidCommand("source", f"must be one of {', '.join(s.value for s in Source)}") from None


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(timezone.utc))
    return stamp


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Timestamp's documented range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def moment(stamp: Timestamp) -> datetime:
    """`stamp.ToDatetime(tzinfo=timezone.utc)` (ValueError out of range), without
    its detour through a time zone conversion: this runs per chained entry."""
    seconds, nanos = stamp.seconds, stamp.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        raise ValueError(f"Timestamp {seconds}s {nanos}ns is outside the valid range")
    return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)


def json_text(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_value(text: str, name: str) -> JsonValue:
    """JSON text as a value the chain can hash; empty text is null."""
    if not text:
        return None
    try:
        # What `_DECODER.decode` does for text that is one JSON value with no
        # whitespace around it (as `json_text` writes it), minus its Python-level
        # steps; anything else goes the whole way, errors included.
        try:
            value, end = _DECODER.scan_once(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            value = _DECODER.decode(text)
    except ValueError as exc:
        raise InvalidCommand(name, f"is not JSON: {exc}") from None
    check_json_value(value, name)
    return value


def _refuse_float(text: str):
    raise ValueError(f"{text} is a float; send integer cents or a decimal string")


def _refuse_constant(text: str):
    raise ValueError(f"{text} is not a JSON value")


# Built once (`json.loads` with hooks builds a decoder per call; this runs per entry).
_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_constant)


def entry_from_draft(draft: AuditDraft) -> events.AuditEntry:
    entry = events.AuditEntry(
        tenant_id=draft.tenant_id,
        event_id=draft.event_id,
        actor_id=draft.actor_id,
        actor_roles=sorted(set(draft.actor_roles)),
        entity_type=draft.entity_type,
        entity_id=draft.entity_id,
        field=draft.field,
        before_json=json_text(draft.before),
        after_json=json_text(draft.after),
        occurred_at=timestamp(draft.occurred_at),
        source=_SOURCE_TO_PROTO[Source(draft.source)],
        reason=draft.reason,
    )
    if draft.decision is not None:
        d = draft.decision
        entry.decision.CopyFrom(
            events.PermissionDecision(
                allowed=d.allowed, rule_id=d.rule_id, policy_id=d.policy_id, policy_version=d.policy_version
            )
        )
    return entry


def draft_from_entry(entry: events.AuditEntry) -> AuditDraft:
    """Raises InvalidCommand naming the field when the entry cannot be chained."""
    decision = None
    if entry.HasField("decision"):
        d = entry.decision
        decision = PermissionDecision(d.allowed, d.rule_id, d.policy_id, d.policy_version)
    try:
        occurred_at = moment(entry.occurred_at)
    except ValueError as exc:
        raise InvalidCommand("occurred_at", str(exc)) from None
    return AuditDraft(
        tenant_id=entry.tenant_id,
        event_id=entry.event_id,
        actor_id=entry.actor_id,
        actor_roles=tuple(entry.actor_roles),
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        field=entry.field,
        before=json_value(entry.before_json, "before_json"),
        after=json_value(entry.after_json, "after_json"),
        occurred_at=occurred_at,
        source=source_from_proto(entry.source),
        reason=entry.reason,
        decision=decision,
    )


def record_to_proto(record: AuditRecord) -> events.AuditRecord:
    draft = AuditDraft(
        tenant_id=record.tenant_id,
        event_id=record.event_id,
        actor_id=record.actor_id,
        actor_roles=record.actor_roles,
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        field=record.field,
        before=record.before,
        after=record.after,
        occurred_at=record.occurred_at,
        source=record.source,
        reason=record.reason,
        decision=record.decision,
    )
    return events.AuditRecord(
        entry=entry_from_draft(draft), sequence=record.sequence, prev_hash=record.prev_hash, hash=record.hash
    )


def record_with_entry(entry: bytes, record: AuditRecord) -> bytes:
    """The serialized `AuditRecord` of `record` around the already serialized
    `AuditEntry` it was chained from ("encode once"): protobuf fields may come in any
    order, so the entry goes in as field 1 verbatim, followed by the chain fields."""
    chain = events.AuditRecord(sequence=record.sequence, prev_hash=record.prev_hash, hash=record.hash)
    return _ENTRY_TAG + _varint(len(entry)) + entry + chain.SerializeToString()


_ENTRY_TAG = bytes([(events.AuditRecord.ENTRY_FIELD_NUMBER << 3) | 2])  # length-delimited


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def record_from_proto(message: events.AuditRecord) -> AuditRecord:
    draft = draft_from_entry(message.entry)
    return AuditRecord(
        tenant_id=draft.tenant_id,
        sequence=message.sequence,
        event_id=draft.event_id,
        actor_id=draft.actor_id,
        # As `append` keeps them (the entry on the log is the one submitted).
        actor_roles=tuple(sorted(set(draft.actor_roles))),
        entity_type=draft.entity_type,
        entity_id=draft.entity_id,
        field=draft.field,
        before=draft.before,
        after=draft.after,
        occurred_at=draft.occurred_at,
        source=draft.source,
        reason=draft.reason,
        decision=draft.decision,
        prev_hash=message.prev_hash,
        hash=message.hash,
    )

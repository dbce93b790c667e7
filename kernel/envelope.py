"""The event envelope: CloudEvents Kafka binding, binary mode, plus W3C trace context.

The record value is the raw protobuf payload; everything else travels in headers
(`ce_id`, `ce_type`, `ce_source`, `ce_time`, `ce_subject`, `ce_dataschema`,
`ce_tenantid`, `content-type`, `traceparent`), so BI tools and tracing read the same
record without knowing our code.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from collections.abc import Mapping
from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from opentelemetry import propagate

from kernel.topics import TopicSpec

CONTENT_TYPE = "application/protobuf"
SPEC_VERSION = "1.0"
_ID_NAMESPACE = uuid.UUID("6f1c3d2e-8a4b-4c1d-9e7f-0d5a2b3c4e5f")
_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes

Headers = list[tuple[str, bytes]]
M = TypeVar("M", bound=Message)


class EnvelopeError(ValueError):
    """A record that is not a well-formed Dealpulse event; the reason goes to the DLQ."""


def new_event_id() -> str:
    return str(uuid.uuid4())


def deterministic_event_id(*parts: str) -> str:
    """Same parts, same id: a re-emitted fact carries the id consumers already saw.
    The id is `str(uuid.uuid5(_ID_NAMESPACE, "\\x1f".join(parts)))`, spelled out here
    because building the UUID object costs several times the hash (the audit chain
    writer names every record it writes with one)."""
    digest = bytearray(hashlib.sha1(_ID_NAMESPACE_BYTES + "\x1f".join(parts).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(frozen=True)
class Envelope:
    event_id: str
    event_type: str
    source: str
    time: datetime
    subject: str
    tenant_id: str
    dataschema: str

    @classmethod
    def for_topic(
        cls,
        spec: TopicSpec,
        *,
        source: str,
        subject: str,
        tenant_id: str,
        time: datetime,
        event_id: str | None = None,
    ) -> "Envelope":
        if time.tzinfo is None:
            raise ValueError("event time must be timezone-aware")
        return cls(
            event_id=event_id or new_event_id(),
            event_type=spec.event_type,
            source=source,
            time=time.astimezone(timezone.utc),
            subject=subject,
            tenant_id=tenant_id,
            dataschema=spec.schema,
        )

    def to_headers(self) -> Headers:
        """CloudEvents headers, plus `traceparent` of the current span when there is one."""
        headers: Headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.event_id.encode()),
            ("ce_type", self.event_type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", self.time.isoformat().replace("+00:00", "Z").encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_dataschema", self.dataschema.encode()),
            ("ce_tenantid", self.tenant_id.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        headers.extend((k, v.encode()) for k, v in carrier.items())
        return headers

    @classmethod
    def from_headers(cls, headers) -> "Envelope":
        try:
            # A list of pairs (what Kafka clients hand over) goes straight into the dict.
            found = dict(headers if isinstance(headers, (list, tuple)) else header_pairs(headers))
        except (TypeError, ValueError) as exc:
            raise EnvelopeError(f"headers are not (name, bytes) pairs: {exc}") from exc
        try:
            values = {k: found[k].decode() for k in _REQUIRED}
        except KeyError as exc:
            raise EnvelopeError(f"missing header {exc.args[0]}") from exc
        except (UnicodeDecodeError, AttributeError) as exc:
            raise EnvelopeError(f"header is not UTF-8: {exc}") from exc
        if values["content-type"] != CONTENT_TYPE:
            raise EnvelopeError(f"content-type {values['content-type']!r} is not {CONTENT_TYPE}")
        try:
            time = datetime.fromisoformat(values["ce_time"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise EnvelopeError(f"ce_time {values['ce_time']!r} is not RFC 3339") from exc
        if time.tzinfo is None:
            raise EnvelopeError("ce_time has no UTC offset")
        return cls(
            event_id=values["ce_id"],
            event_type=values["ce_type"],
            source=values["ce_source"],
            time=time,
            subject=values["ce_subject"],
            tenant_id=values["ce_tenantid"],
            dataschema=values["ce_dataschema"],
        )


_REQUIRED = (
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "ce_subject",
    "ce_dataschema",
    "ce_tenantid",
    "content-type",
)


def header_pairs(headers) -> list[tuple[str, bytes]]:
    """Kafka clients hand headers over as a list of pairs or as a mapping."""
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return [(k, v) for k, v in headers]


def decode(message_type: type[M], value: bytes | None, headers) -> tuple[Envelope, M]:
    """Envelope and payload of a record, or EnvelopeError naming what is wrong."""
    envelope = Envelope.from_headers(headers)
    expected = message_type.DESCRIPTOR.full_name
    if envelope.dataschema != expected:
        raise EnvelopeError(f"ce_dataschema {envelope.dataschema!r} is not {expected}")
    if value is None:
        raise EnvelopeError("record has no value")
    payload = message_type()
    try:
        payload.ParseFromString(value)
    except DecodeError as exc:
        raise EnvelopeError(f"payload is not a valid {expected}: {exc}") from exc
    return envelope, payload


def dead_letter_headers(
    headers, *, reason: str, topic: str, partition: int, offset: int
) -> Headers:
    """The original headers plus why and where the record failed."""
    kept = [(k, v) for k, v in header_pairs(headers) if not k.startswith("dlq_")]
    return kept + [
        ("dlq_reason", reason.encode()),
        ("dlq_source_topic", topic.encode()),
        ("dlq_source_partition", str(partition).encode()),
        ("dlq_source_offset", str(offset).encode()),
    ]

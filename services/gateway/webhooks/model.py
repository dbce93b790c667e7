"""The normalised shape every webhook adapter produces, its errors, redaction and de-duplication.

Pure: no I/O, no framework. The HTTP layer maps `SignatureInvalid` to 401 and
`MalformedPayload` to 400 `application/problem+json` (its `field` goes in `errors`);
either way nothing is produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

SOURCES = frozenset({"dingtalk", "wecom", "email", "csv"})

KINDS = frozenset(
    {
        "checkin",
        "checkout",
        "visit",
        "call",
        "email",
        "email_sent",
        "email_received",
        "external_contact_added",
        "external_contact_half_added",
        "external_contact_edited",
        "external_contact_deleted",
        "external_contact_follow_deleted",
        "external_contact_transfer_failed",
        "requirement_note",
    }
)


class WebhookError(Exception):
    """Base of the adapters' errors."""


class SignatureInvalid(WebhookError):
    """The request is not provably from the vendor, or not for us, or is stale: HTTP 401."""


class MalformedPayload(WebhookError):
    """Authentic (or unauthenticated upload) but undecodable/invalid content: HTTP 400.

    `field` is a path into the payload (`DataList[0].checkTime`, `Encrypt`, `header`).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    def as_problem_error(self) -> dict[str, str]:
        """One entry of the problem document's `errors` list."""
        return {"field": self.field, "problem": self.problem}


@dataclass(frozen=True)
class Location:
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together")
        if self.latitude is not None and not -90.0 <= self.latitude <= 90.0:
            raise ValueError("latitude out of range")
        if self.longitude is not None and not -180.0 <= self.longitude <= 180.0:
            raise ValueError("longitude out of range")


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain dicts/lists again (for JSON or protobuf Struct)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Activity:
    """One raw activity as the gateway publishes it.

    `source_id` is the vendor's id (or a stable digest of the vendor's identifying
    fields when the vendor sends none); `(tenant_id, source, source_id)` is the
    de-duplication key. `evidence` is the original payload, redacted, read-only.
    `details` holds small normalised extras (subject, is_reply, attachments, ...).
    """

    tenant_id: str
    source: str
    source_id: str
    kind: str
    occurred_at: datetime
    rep_id: str | None = None
    customer_id: str | None = None
    opportunity_id: str | None = None
    lead_id: str | None = None
    external_contact_id: str | None = None
    duration_seconds: int | None = None
    location: Location | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.tenant_id:
            raise ValueError("tenant_id is required")
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}")
        if not self.source_id:
            raise ValueError("source_id is required")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if self.duration_seconds is not None and self.duration_seconds < 0:
            raise ValueError("duration_seconds must be >= 0")
        object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))
        object.__setattr__(self, "evidence", _freeze(redact(self.evidence)))
        object.__setattr__(self, "details", _freeze(self.details))

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        return (self.tenant_id, self.source, self.source_id)

    # Not hashable by value (mapping fields); identity is `dedup_key`.
    __hash__ = None  # type: ignore[assignment]


# ---------------------------------------------------------------- redaction

REDACTED = "***"

# Compared against the key lower-cased with `-`/`_`/spaces removed, as substrings.
SENSITIVE_KEY_PARTS: tuple[str, ...] = (
    "token",  # token, access_token, refresh_token, suiteTicket is below
    "secret",
    "aeskey",  # aes_key, encoding_aes_key, EncodingAESKey
    "password",
    "passwd",
    "signature",  # signature, msg_signature, X-Hub-Signature, DKIM-Signature
    "authorization",
    "cookie",
    "apikey",
    "ticket",  # suite_ticket, jsapi_ticket
    "welcomecode",  # WeCom: lets the holder send a welcome message as the rep
    "privatekey",
)


def is_sensitive_key(key: str) -> bool:
    norm = re.sub(r"[-_\s]", "", key).lower()
    return any(part in norm for part in SENSITIVE_KEY_PARTS)


def redact(value: Any) -> Any:
    """A deep copy of `value` with the value of every sensitive key replaced by '***'."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if isinstance(k, str) and is_sensitive_key(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


# ---------------------------------------------------------------- de-duplication


def first_seen(seen_ids: MutableSet[tuple[str, str, str]], activity: Activity) -> bool:
    """True (and remember it) the first time this activity's dedup key is seen."""
    key = activity.dedup_key
    if key in seen_ids:
        return False
    seen_ids.add(key)
    return True


def new_only(seen_ids: MutableSet[tuple[str, str, str]], activities: Iterable[Activity]) -> list[Activity]:
    """The activities not seen before, in order (duplicates inside the batch too)."""
    return [a for a in activities if first_seen(seen_ids, a)]


# ---------------------------------------------------------------- shared parsing helpers


def parse_epoch(value: Any, field_path: str) -> datetime:
    """Unix epoch in seconds or milliseconds (values >= 1e11 are ms) → aware UTC."""
    if isinstance(value, bool):
        raise MalformedPayload(field_path, "expected an epoch timestamp")
    try:
        number = int(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise MalformedPayload(field_path, "expected an epoch timestamp") from None
    seconds = number / 1000 if number >= 100_000_000_000 else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedPayload(field_path, "timestamp out of range") from None


def parse_rfc3339(value: Any, field_path: str) -> datetime:
    """RFC 3339 date-time with an offset (or Z) → aware UTC; naive times are rejected."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(field_path, "expected an RFC 3339 date-time")
    text = value.strip()
    if "T" not in text.upper() and " " not in text:
        raise MalformedPayload(field_path, "expected an RFC 3339 date-time, got a date")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedPayload(field_path, "expected an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise MalformedPayload(field_path, "date-time needs a UTC offset or Z")
    return parsed.astimezone(UTC)


DEFAULT_REPLAY_WINDOW = timedelta(minutes=5)

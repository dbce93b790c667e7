"""The tamper-evident audit log: records, their canonical form and the per-tenant hash chain.

Every domain change and every permission decision becomes one `AuditRecord`. A tenant's
records form one chain: record n carries the hash of record n-1 (`prev_hash`) and its own
`hash` covers its whole content including that link, so editing, removing, inserting or
reordering any record breaks the chain from that point on, and `verify` names the first
record where it breaks.

What the chain does not do on its own: someone able to rewrite the whole store can
recompute every hash after the record they changed. The chain is therefore only as strong
as heads kept elsewhere — the `audit.record.v1` topic (the truth, retained forever) and
`ChainHead` checkpoints published out of band. `verify(..., anchor=head)` checks a
store against such a checkpoint, which also catches records cut off the end.

Canonical form (version 1), the bytes that are hashed:
- a JSON object of every record field except `hash`, plus `"v": 1` (the format version);
- keys sorted, separators `,` and `:` with no whitespace, UTF-8, non-ASCII characters
  written as themselves rather than as `\\u` escapes;
- times converted to UTC, RFC 3339 with exactly six fractional digits and `Z`
  (`2026-11-02T09:00:00.000000Z`), so one instant has one spelling;
- `actor_roles` sorted and de-duplicated (a set has no order to hash);
- `before`/`after`: null, booleans, strings, integers within ±(2**53 - 1), lists, and
  objects with string keys. Integers stay inside the I-JSON range (RFC 7493) so every
  JSON parser reads them back exactly; floats are refused because two writers may print
  the same float differently — money travels in integer cents, decimals as strings;
- `decision`, when present: `{"allowed", "rule_id", "policy_id", "policy_version"}`;
- `hash` = lowercase hex SHA-256 of those bytes.

That is `json.dumps(content | {"v": 1}, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)` encoded as UTF-8; `_canonical` writes the same
bytes field by field (faster, it runs per record) and a unit test holds the two equal.
The store keeps each record as those bytes with `"hash"` added (`stored_json`), so the
chain writer serialises a record once.

The first record of tenant T links to `genesis_hash(T)` = SHA-256 of
`"dealpulse-audit-genesis:" + T`, so a chain copied under another tenant breaks at its
first record.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TextIO

from services.audit.domain.errors import InvalidCommand

CANONICAL_FORMAT_VERSION = 1
GENESIS_PREFIX = "dealpulse-audit-genesis:"
# I-JSON (RFC 7493): integers any JSON parser (including JavaScript's) reads exactly.
MAX_SAFE_INTEGER = 2**53 - 1
# A value nested deeper than this is a bug or an attack, not an audit fact.
MAX_VALUE_DEPTH = 32
_HASH = re.compile(r"^[0-9a-f]{64}$")

JsonValue = None | bool | int | str | list["JsonValue"] | tuple["JsonValue", ...] | Mapping[str, "JsonValue"]


class Source(str, Enum):
    API = "api"
    WEBHOOK = "webhook"
    SYSTEM = "system"


@dataclass(frozen=True)
class PermissionDecision:
    """Present on records of permission decisions (`Check` calls)."""

    allowed: bool
    rule_id: str
    policy_id: str = ""
    policy_version: int = 0


@dataclass(frozen=True)
class AuditDraft:
    """What the caller knows about a change; `append` gives it its place in the chain."""

    tenant_id: str
    # The id of the event or command recorded (its CloudEvents `ce_id`), so the projection
    # can recognise a redelivered event instead of recording it twice.
    event_id: str
    actor_id: str
    actor_roles: tuple[str, ...]
    entity_type: str
    entity_id: str
    # Empty when the change concerns the whole entity (created, deleted).
    field: str
    before: JsonValue
    after: JsonValue
    occurred_at: datetime
    source: Source
    reason: str = ""
    decision: PermissionDecision | None = None


@dataclass(frozen=True)
class AuditRecord:
    tenant_id: str
    sequence: int
    event_id: str
    actor_id: str
    actor_roles: tuple[str, ...]
    entity_type: str
    entity_id: str
    field: str
    before: JsonValue
    after: JsonValue
    occurred_at: datetime
    source: Source
    reason: str
    decision: PermissionDecision | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainHead:
    """Where a tenant's chain ends: the last sequence number and its hash. Sequence 0
    with the genesis hash is the head of an empty chain."""

    tenant_id: str
    sequence: int
    hash: str

    @classmethod
    def genesis(cls, tenant_id: str) -> "ChainHead":
        return cls(tenant_id, 0, genesis_hash(tenant_id))

    @classmethod
    def of(cls, record: AuditRecord) -> "ChainHead":
        return cls(record.tenant_id, record.sequence, record.hash)


def genesis_hash(tenant_id: str) -> str:
    return hashlib.sha256((GENESIS_PREFIX + tenant_id).encode("utf-8")).hexdigest()


# --- canonical form -----------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """UTC RFC 3339 with microseconds always written: one instant, one spelling."""
    utc = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    if utc.year < 1000:  # strftime is the reference; the layout below assumes four digits
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as the strftime above, several times faster (it runs per record).
    return "%d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond
    )


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return moment.astimezone(timezone.utc)


def check_json_value(value: Any, path: str, depth: int = 0) -> None:
    """Refuse what has no single canonical JSON form (see the module docstring)."""
    if depth > MAX_VALUE_DEPTH:
        raise InvalidCommand(path, f"nests deeper than {MAX_VALUE_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidCommand(path, f"integer {value} is outside ±(2**53 - 1); send it as a string")
        return
    if isinstance(value, float):
        raise InvalidCommand(
            path, f"float {value!r} has no single JSON spelling; send integer cents or a decimal string"
        )
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_json_value(item, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidCommand(path, f"object key {key!r} is not a string")
            check_json_value(item, f"{path}.{key}", depth + 1)
        return
    raise InvalidCommand(path, f"{type(value).__name__} is not a JSON value")


def _content(record: AuditDraft | AuditRecord, sequence: int, prev_hash: str) -> dict[str, Any]:
    """Every hashed field as JSON-ready values (the canonical object minus `v`)."""
    decision = record.decision
    return {
        "tenant_id": record.tenant_id,
        "sequence": sequence,
        "event_id": record.event_id,
        "actor_id": record.actor_id,
        "actor_roles": sorted(set(record.actor_roles)),
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "field": record.field,
        "before": record.before,
        "after": record.after,
        "occurred_at": format_time(record.occurred_at),
        "source": Source(record.source).value,
        "reason": record.reason,
        "decision": None
        if decision is None
        else {
            "allowed": decision.allowed,
            "rule_id": decision.rule_id,
            "policy_id": decision.policy_id,
            "policy_version": decision.policy_version,
        },
        "prev_hash": prev_hash,
    }


# The canonical form is defined (module docstring) as `json.dumps` of the content
# with these options; `_canonical` lays it out by hand and a unit test checks the two
# give the same bytes on varied records.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_text = json.encoder.encode_basestring  # a string as that encoder writes it (ensure_ascii=False)


def _value(value: Any) -> str:
    """`_CANONICAL_ENCODER.encode(value)`. Scalars are spelled here as that encoder
    spells them: for anything but a string it sets up a whole encoder per call,
    which costs more than the rest of a record's canonical bytes."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return _CANONICAL_ENCODER.encode(value)


def _canonical(record: AuditDraft | AuditRecord, sequence: int, prev_hash: str, roles: list[str]) -> bytes:
    """The canonical bytes laid out field by field in sorted key order: the same bytes
    as `json.dumps({**_content(...), "v": 1}, <the options above>)`, without building,
    sorting and walking a dict per record (this runs per record on the chain
    writer's hot path)."""
    decision = record.decision
    if decision is None:
        decision_json = "null"
    else:
        decision_json = '{"allowed":%s,"policy_id":%s,"policy_version":%s,"rule_id":%s}' % (
            _value(decision.allowed),
            _text(decision.policy_id),
            _value(decision.policy_version),
            _text(decision.rule_id),
        )
    text = (
        '{"actor_id":%s,"actor_roles":[%s],"after":%s,"before":%s,"decision":%s,"entity_id":%s,'
        '"entity_type":%s,"event_id":%s,"field":%s,"occurred_at":"%s","prev_hash":%s,"reason":%s,'
        '"sequence":%s,"source":%s,"tenant_id":%s,"v":%d}'
    ) % (
        _text(record.actor_id),
        ",".join(map(_text, roles)),
        _value(record.after),
        _value(record.before),
        decision_json,
        _text(record.entity_id),
        _text(record.entity_type),
        _text(record.event_id),
        _text(record.field),
        format_time(record.occurred_at),
        _text(prev_hash),
        _text(record.reason),
        _value(sequence),
        _text(Source(record.source).value),
        _text(record.tenant_id),
        CANONICAL_FORMAT_VERSION,
    )
    return text.encode("utf-8")


def canonical_bytes(record: AuditRecord) -> bytes:
    """The exact bytes `record.hash` is the SHA-256 of (for verifiers in other languages)."""
    return _canonical(record, record.sequence, record.prev_hash, sorted(set(record.actor_roles)))


def compute_hash(record: AuditRecord) -> str:
    """The hash the record's content commits to; differs from `record.hash` once edited."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


# --- appending ----------------------------------------------------------------------


def _require(value: str, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(name, "is required")


_REQUIRED_TEXT = ("tenant_id", "event_id", "actor_id", "entity_type", "entity_id")
# A `Source` is a str, so its members and their values are both found here.
_SOURCE_VALUES = frozenset(source.value for source in Source)


def validate_draft(draft: AuditDraft) -> None:
    for name in _REQUIRED_TEXT:  # `_require`, inlined: this runs per chained entry
        value = getattr(draft, name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidCommand(name, "is required")
    if not isinstance(draft.actor_roles, (tuple, list, frozenset, set)) or not all(
        isinstance(role, str) for role in draft.actor_roles
    ):
        raise InvalidCommand("actor_roles", "must be a collection of role names")
    if not isinstance(draft.field, str):
        raise InvalidCommand("field", "must be a string (empty for the whole entity)")
    if not isinstance(draft.reason, str):
        raise InvalidCommand("reason", "must be a string")
    if not isinstance(draft.occurred_at, datetime) or draft.occurred_at.utcoffset() is None:
        raise InvalidCommand("occurred_at", "must be a datetime with a time zone")
    if not isinstance(draft.source, str) or draft.source not in _SOURCE_VALUES:
        raise InvalidCommand("source", f"must be one of {', '.join(s.value for s in Source)}")
    check_json_value(draft.before, "before")
    check_json_value(draft.after, "after")
    if draft.decision is not None and not isinstance(draft.decision.allowed, bool):
        raise InvalidCommand("decision.allowed", "must be true or false")


def append(head: ChainHead, draft: AuditDraft) -> AuditRecord:
    """The next record of `head`'s chain. The caller keeps one head per tenant (the
    audit topic is keyed by tenant, so one partition consumer owns each chain) and
    moves it to `ChainHead.of(record)` once the record is durably written."""
    validate_draft(draft)
    return append_validated(head, draft)[0]


def append_validated(head: ChainHead, draft: AuditDraft) -> tuple[AuditRecord, bytes]:
    """`append` for a draft that already passed `validate_draft`, also returning the
    canonical bytes that were hashed: the chain writer derives the stored form from
    them (`stored_json`) instead of serialising the record a second time."""
    if draft.tenant_id != head.tenant_id:
        raise InvalidCommand(
            "tenant_id", f"draft of tenant {draft.tenant_id!r} cannot join the chain of tenant {head.tenant_id!r}"
        )
    sequence = head.sequence + 1
    roles = sorted(set(draft.actor_roles))
    canonical = _canonical(draft, sequence, head.hash, roles)
    record = AuditRecord(
        tenant_id=draft.tenant_id,
        sequence=sequence,
        event_id=draft.event_id,
        actor_id=draft.actor_id,
        actor_roles=tuple(roles),
        entity_type=draft.entity_type,
        entity_id=draft.entity_id,
        field=draft.field,
        before=draft.before,
        after=draft.after,
        occurred_at=draft.occurred_at,
        source=Source(draft.source),
        reason=draft.reason,
        decision=draft.decision,
        prev_hash=head.hash,
        hash=hashlib.sha256(canonical).hexdigest(),
    )
    return record, canonical


def append_all(head: ChainHead, drafts: Iterable[AuditDraft]) -> tuple[list[AuditRecord], ChainHead]:
    """Chain a batch; returns the records and the new head."""
    records = []
    for draft in drafts:
        record = append(head, draft)
        records.append(record)
        head = ChainHead.of(record)
    return records, head


# --- verifying ----------------------------------------------------------------------


class ProblemKind(str, Enum):
    OTHER_TENANT = "other_tenant"  # a record of another tenant sits in this chain
    DUPLICATE = "duplicate"  # the same sequence number twice in a row
    OUT_OF_ORDER = "out_of_order"  # a sequence number lower than one already seen
    GAP = "gap"  # sequence numbers are missing before this record
    EDITED = "edited"  # the record's content no longer matches its hash
    BROKEN_LINK = "broken_link"  # prev_hash is not the previous record's hash
    ANCHOR_MISMATCH = "anchor_mismatch"  # the anchored sequence has another hash: chain rewritten
    TRUNCATED = "truncated"  # the records end before the anchored sequence


@dataclass(frozen=True)
class ChainProblem:
    kind: ProblemKind
    # The sequence number the problem is about: the record's own, or for a gap or a
    # truncation the first one missing.
    sequence: int
    # Index of the offending record in the input (for TRUNCATED: the number of records).
    position: int
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    tenant_id: str
    checked: int  # records found sound before the first problem
    head: ChainHead  # the last sound head: verification can resume from here
    problem: ChainProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    records: Iterable[AuditRecord],
    tenant_id: str | None = None,
    *,
    after: ChainHead | None = None,
    anchor: ChainHead | None = None,
) -> VerifyReport:
    """Walk one tenant's records in the order given — which must be sequence order, as
    the topic partition and the store's `ORDER BY sequence` give them — and report the
    first problem. One pass, constant memory, so it runs over a log kept forever.

    `after`: resume from a head verified earlier instead of from genesis.
    `anchor`: a head published out of band; the record with its sequence must carry its
    hash and the records must reach it.
    """
    iterator = iter(records)
    first = next(iterator, None)
    # The tenant is the one named, else the one the heads or the first record belong to.
    named = (given.tenant_id for given in (after, anchor, first) if given is not None)
    tenant = tenant_id or next(named, "")
    head = after if after is not None else ChainHead.genesis(tenant)
    if head.tenant_id != tenant:
        raise InvalidCommand("after", f"head of tenant {head.tenant_id!r} cannot resume the chain of {tenant!r}")
    if anchor is not None and anchor.tenant_id != tenant:
        raise InvalidCommand("anchor", f"head of tenant {anchor.tenant_id!r} cannot anchor the chain of {tenant!r}")
    checked = 0

    def report(kind: ProblemKind, sequence: int, detail: str) -> VerifyReport:
        problem = ChainProblem(kind, sequence, checked, f"tenant {tenant}: {detail}")
        return VerifyReport(tenant, checked, head, problem)

    chain = iterator if first is None else _prepend(first, iterator)
    for record in chain:
        expected = head.sequence + 1
        if record.tenant_id != tenant:
            return report(
                ProblemKind.OTHER_TENANT,
                record.sequence,
                f"record {record.sequence} belongs to tenant {record.tenant_id!r}",
            )
        if record.sequence == head.sequence and head.sequence > 0:
            return report(ProblemKind.DUPLICATE, record.sequence, f"record {record.sequence} appears twice")
        if record.sequence < expected:
            preceded = f"record {head.sequence}" if head.sequence else "the start of the chain"
            return report(ProblemKind.OUT_OF_ORDER, record.sequence, f"record {record.sequence} comes after {preceded}")
        if record.sequence > expected:
            missing = f"{expected}" if record.sequence == expected + 1 else f"{expected}-{record.sequence - 1}"
            preceded = f"record {head.sequence}" if head.sequence else "the start of the chain"
            return report(
                ProblemKind.GAP, expected, f"record {missing} missing: record {record.sequence} follows {preceded}"
            )
        if not _hash_holds(record):
            return report(
                ProblemKind.EDITED,
                record.sequence,
                f"record {record.sequence} ({record.entity_type} {record.entity_id}, field {record.field!r}) "
                "no longer matches its hash: it was changed after it was written",
            )
        if record.prev_hash != head.hash:
            previous = f"record {head.sequence}" if head.sequence else "the tenant's genesis"
            return report(
                ProblemKind.BROKEN_LINK,
                record.sequence,
                f"record {record.sequence} does not link to {previous}: "
                "one of them was rewritten or the record was moved here from elsewhere",
            )
        if anchor is not None and record.sequence == anchor.sequence and record.hash != anchor.hash:
            return report(
                ProblemKind.ANCHOR_MISMATCH,
                record.sequence,
                f"record {record.sequence} differs from the published checkpoint: the chain was recomputed",
            )
        head = ChainHead.of(record)
        checked += 1
    if anchor is not None and head.sequence < anchor.sequence:
        return report(
            ProblemKind.TRUNCATED,
            head.sequence + 1,
            f"records end at {head.sequence} but the checkpoint reaches {anchor.sequence}",
        )
    return VerifyReport(tenant, checked, head)


def _hash_holds(record: AuditRecord) -> bool:
    if not isinstance(record.hash, str) or not _HASH.match(record.hash):
        return False
    try:
        return compute_hash(record) == record.hash
    except (TypeError, ValueError, AttributeError):
        # Content no writer could have hashed (a float, a naive time) was put there later.
        return False


def _prepend(first: AuditRecord, rest: Iterator[AuditRecord]) -> Iterator[AuditRecord]:
    yield first
    yield from rest


# --- querying -----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    """A filter over one tenant's records; every criterion left as None matches all.
    Time range is half-open on `occurred_at`: since <= t < until."""

    tenant_id: str
    entity_type: str | None = None
    entity_id: str | None = None
    actor_id: str | None = None
    field: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        _require(self.tenant_id, "tenant_id")
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
                raise InvalidCommand(name, "must be a datetime with a time zone")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidCommand("until", "must be later than since")

    def matches(self, record: AuditRecord) -> bool:
        return (
            record.tenant_id == self.tenant_id
            and (self.entity_type is None or record.entity_type == self.entity_type)
            and (self.entity_id is None or record.entity_id == self.entity_id)
            and (self.actor_id is None or record.actor_id == self.actor_id)
            and (self.field is None or record.field == self.field)
            and (self.since is None or record.occurred_at >= self.since)
            and (self.until is None or record.occurred_at < self.until)
        )


def select(records: Iterable[AuditRecord], query: AuditQuery) -> Iterator[AuditRecord]:
    """The records matching `query`, in the order given. Records of other tenants never
    match: tenants are walls even when a caller hands over a mixed batch."""
    return (record for record in records if query.matches(record))


# --- exporting ----------------------------------------------------------------------


def stored_json(record: AuditRecord, canonical: bytes) -> bytes:
    """The record as one JSON object: its canonical bytes (the format version `v`
    included) with `hash` added. `record_from_dict` reads it back; built by splicing
    because the canonical object always ends with `"v":1}` (`v` sorts last)."""
    return b"%s,\"hash\":\"%s\"}" % (canonical[:-1], record.hash.encode("ascii"))


def record_json(record: AuditRecord) -> bytes:
    return stored_json(record, canonical_bytes(record))


def record_to_dict(record: AuditRecord) -> dict[str, Any]:
    """The record as JSON-ready values: the canonical content plus `hash`."""
    return {**_content(record, record.sequence, record.prev_hash), "hash": record.hash}


_RECORD_KEYS = frozenset(f.name for f in fields(AuditRecord))
_DECISION_KEYS = frozenset(f.name for f in fields(PermissionDecision))


def record_from_dict(data: Mapping[str, Any]) -> AuditRecord:
    """Read back an exported record exactly, so an export can be verified on its own."""
    if not isinstance(data, Mapping):
        raise InvalidCommand("record", "must be a JSON object")
    # `v` (the canonical format version) is in the stored form, not in exports.
    if "v" in data and data["v"] != CANONICAL_FORMAT_VERSION:
        raise InvalidCommand("v", f"canonical format {data['v']!r} is not {CANONICAL_FORMAT_VERSION}")
    unknown = set(data) - _RECORD_KEYS - {"v"}
    missing = _RECORD_KEYS - set(data)
    if unknown:
        raise InvalidCommand(sorted(unknown)[0], "is not an audit record field")
    if missing:
        raise InvalidCommand(sorted(missing)[0], "is missing")
    text_fields = ("tenant_id", "event_id", "actor_id", "entity_type", "entity_id", "field", "reason")
    # A malformed hash still loads: `verify` reports it as the record it belongs to.
    for name in (*text_fields, "prev_hash", "hash"):
        if not isinstance(data[name], str):
            raise InvalidCommand(name, "must be a string")
    roles = data["actor_roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidCommand("actor_roles", "must be a list of strings")
    decision = data["decision"]
    if decision is not None:
        if not isinstance(decision, Mapping) or set(decision) != _DECISION_KEYS:
            raise InvalidCommand("decision", f"must be null or an object with {', '.join(sorted(_DECISION_KEYS))}")
        decision = PermissionDecision(**decision)
    sequence = data["sequence"]
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise InvalidCommand("sequence", "must be a positive integer")
    try:
        occurred_at = parse_time(data["occurred_at"])
        source = Source(data["source"])
    except (TypeError, ValueError) as error:
        raise InvalidCommand("record", str(error)) from None
    return AuditRecord(
        tenant_id=data["tenant_id"],
        sequence=sequence,
        event_id=data["event_id"],
        actor_id=data["actor_id"],
        actor_roles=tuple(roles),
        entity_type=data["entity_type"],
        entity_id=data["entity_id"],
        field=data["field"],
        before=data["before"],
        after=data["after"],
        occurred_at=occurred_at,
        source=source,
        reason=data["reason"],
        decision=decision,
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


def write_json(records: Iterable[AuditRecord], out: TextIO) -> int:
    """A JSON array, one record per line, written as it goes (exports can be large).
    Every field including the hashes is kept, so the export verifies on its own.
    Returns the number of records written."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record_to_dict(record), sort_keys=True, ensure_ascii=False, separators=(",", ":")))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def to_json(records: Iterable[AuditRecord]) -> str:
    buffer = io.StringIO()
    write_json(records, buffer)
    return buffer.getvalue()


def records_from_json(text: str) -> list[AuditRecord]:
    data = json.loads(text)
    if not isinstance(data, list):
        raise InvalidCommand("export", "must be a JSON array of records")
    return [record_from_dict(item) for item in data]


CSV_COLUMNS: tuple[str, ...] = (
    "tenant_id",
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_roles",
    "source",
    "entity_type",
    "entity_id",
    "field",
    "before",
    "after",
    "reason",
    "decision_allowed",
    "decision_rule_id",
    "decision_policy",
    "event_id",
    "prev_hash",
    "hash",
)
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+$")


def _spreadsheet_safe(cell: str) -> str:
    """The CSV export is for people with spreadsheets: a cell that would run as a
    formula gets a leading apostrophe. The JSON export is the exact, verifiable one."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def _csv_row(record: AuditRecord) -> list[str]:
    def as_json(value: JsonValue) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    decision = record.decision
    row = [
        record.tenant_id,
        str(record.sequence),
        format_time(record.occurred_at),
        record.actor_id,
        ";".join(sorted(set(record.actor_roles))),
        Source(record.source).value,
        record.entity_type,
        record.entity_id,
        record.field,
        as_json(record.before),
        as_json(record.after),
        record.reason,
        "" if decision is None else ("allowed" if decision.allowed else "denied"),
        "" if decision is None else decision.rule_id,
        "" if decision is None else f"{decision.policy_id}@{decision.policy_version}",
        record.event_id,
        record.prev_hash,
        record.hash,
    ]
    return [_spreadsheet_safe(cell) for cell in row]


def write_csv(records: Iterable[AuditRecord], out: TextIO) -> int:
    """RFC 4180 CSV with a header row; `before`/`after` as compact JSON, roles joined
    by `;`. Open `out` with newline="" when it is a file. Returns the records written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(_csv_row(record))
        count += 1
    return count


def to_csv(records: Iterable[AuditRecord]) -> str:
    buffer = io.StringIO(newline="")
    write_csv(records, buffer)
    return buffer.getvalue()

"""What a rep sends as evidence for one template action.

Plain data, no behaviour: a verifier (see `verifiers.py`) reads the part it needs and
ignores the rest. Activity and approval facts are not typed in by the rep: the adapter
copies them from the activity event (check-in, call log, mail gateway) or from the audit
service's approval record that the submission references.

A malformed submission (wrong types, unknown keys) raises `InvalidCommand` and records
nothing; a well-formed submission that does not meet the rule is recorded with an
invalid verdict and its reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from services.actions.domain.errors import InvalidCommand


class ActivityKind(str, Enum):
    VISIT = "visit"
    CALL = "call"
    EMAIL_REPLY = "email_reply"


class ApprovalDecision(str, Enum):
    PENDING = "pending"
    GRANTED = "granted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Attachment:
    document_type: str
    file_name: str
    # Reference in the file store; the verifier does not fetch the file.
    file_id: str = ""
    # None when the client did not say; 0 means an empty file.
    size_bytes: int | None = None

    @property
    def extension(self) -> str:
        name = self.file_name.strip()
        stem, dot, ext = name.rpartition(".")
        return ext.lower() if dot and stem else ""


@dataclass(frozen=True)
class ActivityFacts:
    """An activity as the activity stream saw it.

    `effective` is the stream's verdict on a visit (on site, inside the customer's
    geofence, longer than the tenant's effective-visit minimum: 25 min by default).
    """

    kind: ActivityKind
    # The activity event (check-in, call record, mail) these facts were read from.
    event_id: str
    minutes: float = 0.0
    effective: bool = False
    # For email replies: the message id of the customer's reply.
    reply_message_id: str = ""


@dataclass(frozen=True)
class ApprovalFacts:
    """An approval as the audit service's workflow engine recorded it."""

    approval_id: str
    approver_role: str
    decision: ApprovalDecision
    approver_id: str = ""


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class Submission:
    # Form values by field id.
    form: Mapping[str, Any] = field(default_factory=dict)
    # Counted items by item name, e.g. {"pain_point_question": ("…", "…", "…")}.
    items: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    activities: tuple[ActivityFacts, ...] = ()
    approvals: tuple[ApprovalFacts, ...] = ()
    # The user who submitted; nobody approves their own action.
    submitted_by: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "form", _frozen_mapping(self.form))
        object.__setattr__(self, "items", _frozen_mapping({k: tuple(v) for k, v in self.items.items()}))
        object.__setattr__(self, "attachments", tuple(self.attachments))
        object.__setattr__(self, "activities", tuple(self.activities))
        object.__setattr__(self, "approvals", tuple(self.approvals))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Submission":
        """Build a submission from plain JSON-like data, strictly: unknown keys and wrong
        types raise InvalidCommand naming the field."""
        _require_keys(data, "submission", {"form", "items", "attachments", "activities", "approvals", "submitted_by"})
        form = data.get("form", {})
        if not isinstance(form, Mapping) or not all(isinstance(k, str) for k in form):
            raise InvalidCommand("submission.form", "must map field ids to values")
        items_in = data.get("items", {})
        if not isinstance(items_in, Mapping):
            raise InvalidCommand("submission.items", "must map item names to lists of text")
        items: dict[str, tuple[str, ...]] = {}
        for name, entries in items_in.items():
            if not _is_list(entries) or not all(isinstance(e, str) for e in entries):
                raise InvalidCommand(f"submission.items.{name}", "must be a list of text")
            items[str(name)] = tuple(entries)
        return cls(
            form=form,
            items=items,
            attachments=tuple(
                _attachment(a, f"submission.attachments[{i}]") for i, a in enumerate(_list(data, "attachments"))
            ),
            activities=tuple(
                _activity(a, f"submission.activities[{i}]") for i, a in enumerate(_list(data, "activities"))
            ),
            approvals=tuple(_approval(a, f"submission.approvals[{i}]") for i, a in enumerate(_list(data, "approvals"))),
            submitted_by=_text(data, "submitted_by", "submission", required=False),
        )


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _list(data: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = data.get(key, ())
    if not _is_list(value):
        raise InvalidCommand(f"submission.{key}", "must be a list")
    return value


def _require_keys(data: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise InvalidCommand(where, "must be an object")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise InvalidCommand(where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise InvalidCommand(f"{where}.{key}", "must be text")
    if required and not value.strip():
        raise InvalidCommand(f"{where}.{key}", "is required")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidCommand(f"{where}.{key}", "must be a number")
    if value < 0:
        raise InvalidCommand(f"{where}.{key}", "must not be negative")
    return value


def _enum(enum: type[Enum], data: Mapping[str, Any], key: str, where: str) -> Any:
    value = data.get(key)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidCommand(f"{where}.{key}", f"must be one of {allowed}; got {value!r}") from None


def _attachment(data: Any, where: str) -> Attachment:
    _require_keys(data, where, {"document_type", "file_name", "file_id", "size_bytes"})
    size = data.get("size_bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise InvalidCommand(f"{where}.size_bytes", "must be a whole number of bytes, not negative")
    return Attachment(
        document_type=_text(data, "document_type", where),
        file_name=_text(data, "file_name", where),
        file_id=_text(data, "file_id", where, required=False),
        size_bytes=size,
    )


def _activity(data: Any, where: str) -> ActivityFacts:
    _require_keys(data, where, {"kind", "event_id", "minutes", "effective", "reply_message_id"})
    effective = data.get("effective", False)
    if not isinstance(effective, bool):
        raise InvalidCommand(f"{where}.effective", "must be true or false")
    return ActivityFacts(
        kind=_enum(ActivityKind, data, "kind", where),
        event_id=_text(data, "event_id", where, required=False),
        minutes=_number(data, "minutes", where),
        effective=effective,
        reply_message_id=_text(data, "reply_message_id", where, required=False),
    )


def _approval(data: Any, where: str) -> ApprovalFacts:
    _require_keys(data, where, {"approval_id", "approver_role", "decision", "approver_id"})
    return ApprovalFacts(
        approval_id=_text(data, "approval_id", where, required=False),
        approver_role=_text(data, "approver_role", where),
        decision=_enum(ApprovalDecision, data, "decision", where),
        approver_id=_text(data, "approver_id", where, required=False),
    )

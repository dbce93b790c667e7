import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_UNSPECIFIED: _ClassVar[Source]
    SOURCE_API: _ClassVar[Source]
    SOURCE_WEBHOOK: _ClassVar[Source]
    SOURCE_SYSTEM: _ClassVar[Source]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_APPROVE: _ClassVar[Verdict]
    VERDICT_REJECT: _ClassVar[Verdict]

class ApprovalStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPROVAL_STATUS_UNSPECIFIED: _ClassVar[ApprovalStatus]
    APPROVAL_STATUS_PENDING: _ClassVar[ApprovalStatus]
    APPROVAL_STATUS_APPROVED: _ClassVar[ApprovalStatus]
    APPROVAL_STATUS_REJECTED: _ClassVar[ApprovalStatus]
SOURCE_UNSPECIFIED: Source
SOURCE_API: Source
SOURCE_WEBHOOK: Source
SOURCE_SYSTEM: Source
VERDICT_UNSPECIFIED: Verdict
VERDICT_APPROVE: Verdict
VERDICT_REJECT: Verdict
APPROVAL_STATUS_UNSPECIFIED: ApprovalStatus
APPROVAL_STATUS_PENDING: ApprovalStatus
APPROVAL_STATUS_APPROVED: ApprovalStatus
APPROVAL_STATUS_REJECTED: ApprovalStatus

class PermissionDecision(_message.Message):
    __slots__ = ("allowed", "rule_id", "policy_id", "policy_version")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    rule_id: str
    policy_id: str
    policy_version: int
    def __init__(self, allowed: _Optional[bool] = ..., rule_id: _Optional[str] = ..., policy_id: _Optional[str] = ..., policy_version: _Optional[int] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("tenant_id", "event_id", "actor_id", "actor_roles", "entity_type", "entity_id", "field", "before_json", "after_json", "occurred_at", "source", "reason", "decision")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLES_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    event_id: str
    actor_id: str
    actor_roles: _containers.RepeatedScalarFieldContainer[str]
    entity_type: str
    entity_id: str
    field: str
    before_json: str
    after_json: str
    occurred_at: _timestamp_pb2.Timestamp
    source: Source
    reason: str
    decision: PermissionDecision
    def __init__(self, tenant_id: _Optional[str] = ..., event_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_roles: _Optional[_Iterable[str]] = ..., entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., field: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[Source, str]] = ..., reason: _Optional[str] = ..., decision: _Optional[_Union[PermissionDecision, _Mapping]] = ...) -> None: ...

class AuditRecord(_message.Message):
    __slots__ = ("entry", "sequence", "prev_hash", "hash")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    entry: AuditEntry
    sequence: int
    prev_hash: str
    hash: str
    def __init__(self, entry: _Optional[_Union[AuditEntry, _Mapping]] = ..., sequence: _Optional[int] = ..., prev_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class ProposedChange(_message.Message):
    __slots__ = ("entity_type", "entity_id", "field", "before_json", "after_json")
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    entity_type: str
    entity_id: str
    field: str
    before_json: str
    after_json: str
    def __init__(self, entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., field: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ...) -> None: ...

class ApprovalEvent(_message.Message):
    __slots__ = ("tenant_id", "request_id", "actor_id", "actor_roles", "occurred_at", "submitted", "decided", "deadline_reached")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLES_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    DECIDED_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_REACHED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    request_id: str
    actor_id: str
    actor_roles: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    submitted: ApprovalSubmitted
    decided: ApprovalDecided
    deadline_reached: ApprovalDeadlineReached
    def __init__(self, tenant_id: _Optional[str] = ..., request_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_roles: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitted: _Optional[_Union[ApprovalSubmitted, _Mapping]] = ..., decided: _Optional[_Union[ApprovalDecided, _Mapping]] = ..., deadline_reached: _Optional[_Union[ApprovalDeadlineReached, _Mapping]] = ...) -> None: ...

class ApprovalSubmitted(_message.Message):
    __slots__ = ("workflow", "workflow_version", "change", "reason")
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    workflow: str
    workflow_version: int
    change: ProposedChange
    reason: str
    def __init__(self, workflow: _Optional[str] = ..., workflow_version: _Optional[int] = ..., change: _Optional[_Union[ProposedChange, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ApprovalDecided(_message.Message):
    __slots__ = ("decision_id", "step", "verdict", "reason")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    step: str
    verdict: Verdict
    reason: str
    def __init__(self, decision_id: _Optional[str] = ..., step: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ApprovalDeadlineReached(_message.Message):
    __slots__ = ("step", "due_at")
    STEP_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    step: str
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, step: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApprovalCompleted(_message.Message):
    __slots__ = ("tenant_id", "request_id", "workflow", "workflow_version", "change", "status", "submitted_by", "reason", "approved_by", "rejected_by", "rejected_step", "rejection_reason", "completed_at", "notify_roles", "decisions", "submitted_at", "submitted_by_roles")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    REJECTED_BY_FIELD_NUMBER: _ClassVar[int]
    REJECTED_STEP_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_ROLES_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_ROLES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    request_id: str
    workflow: str
    workflow_version: int
    change: ProposedChange
    status: ApprovalStatus
    submitted_by: str
    reason: str
    approved_by: _containers.RepeatedScalarFieldContainer[str]
    rejected_by: str
    rejected_step: str
    rejection_reason: str
    completed_at: _timestamp_pb2.Timestamp
    notify_roles: _containers.RepeatedScalarFieldContainer[str]
    decisions: _containers.RepeatedCompositeFieldContainer[ApprovalDecisionRecord]
    submitted_at: _timestamp_pb2.Timestamp
    submitted_by_roles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., request_id: _Optional[str] = ..., workflow: _Optional[str] = ..., workflow_version: _Optional[int] = ..., change: _Optional[_Union[ProposedChange, _Mapping]] = ..., status: _Optional[_Union[ApprovalStatus, str]] = ..., submitted_by: _Optional[str] = ..., reason: _Optional[str] = ..., approved_by: _Optional[_Iterable[str]] = ..., rejected_by: _Optional[str] = ..., rejected_step: _Optional[str] = ..., rejection_reason: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notify_roles: _Optional[_Iterable[str]] = ..., decisions: _Optional[_Iterable[_Union[ApprovalDecisionRecord, _Mapping]]] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitted_by_roles: _Optional[_Iterable[str]] = ...) -> None: ...

class ApprovalDecisionRecord(_message.Message):
    __slots__ = ("step", "actor_id", "actor_roles", "verdict", "reason", "decided_at", "decision_id")
    STEP_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLES_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    step: str
    actor_id: str
    actor_roles: _containers.RepeatedScalarFieldContainer[str]
    verdict: Verdict
    reason: str
    decided_at: _timestamp_pb2.Timestamp
    decision_id: str
    def __init__(self, step: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_roles: _Optional[_Iterable[str]] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., reason: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision_id: _Optional[str] = ...) -> None: ...

class NotificationRequested(_message.Message):
    __slots__ = ("tenant_id", "recipient_id", "recipient_role", "subject", "body", "entity_type", "entity_id", "requested_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ROLE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    recipient_id: str
    recipient_role: str
    subject: str
    body: str
    entity_type: str
    entity_id: str
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., recipient_id: _Optional[str] = ..., recipient_role: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AnomalyReport(_message.Message):
    __slots__ = ("tenant_id", "week", "timezone", "since", "until", "edits_examined", "findings", "generated_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    EDITS_EXAMINED_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    week: str
    timezone: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    edits_examined: int
    findings: _containers.RepeatedCompositeFieldContainer[AnomalyFinding]
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., week: _Optional[str] = ..., timezone: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., edits_examined: _Optional[int] = ..., findings: _Optional[_Iterable[_Union[AnomalyFinding, _Mapping]]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AnomalyFinding(_message.Message):
    __slots__ = ("kind", "actor_id", "summary", "count", "share", "evidence")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    actor_id: str
    summary: str
    count: int
    share: float
    evidence: _containers.RepeatedCompositeFieldContainer[AnomalyEvidence]
    def __init__(self, kind: _Optional[str] = ..., actor_id: _Optional[str] = ..., summary: _Optional[str] = ..., count: _Optional[int] = ..., share: _Optional[float] = ..., evidence: _Optional[_Iterable[_Union[AnomalyEvidence, _Mapping]]] = ...) -> None: ...

class AnomalyEvidence(_message.Message):
    __slots__ = ("sequence", "occurred_at", "entity_type", "entity_id", "field", "before_json", "after_json")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    occurred_at: _timestamp_pb2.Timestamp
    entity_type: str
    entity_id: str
    field: str
    before_json: str
    after_json: str
    def __init__(self, sequence: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., field: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ...) -> None: ...

import datetime

from dealpulse.audit.v1 import events_pb2 as _events_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]

class ChainProblemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAIN_PROBLEM_KIND_UNSPECIFIED: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_OTHER_TENANT: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_DUPLICATE: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_OUT_OF_ORDER: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_GAP: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_EDITED: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_BROKEN_LINK: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_ANCHOR_MISMATCH: _ClassVar[ChainProblemKind]
    CHAIN_PROBLEM_KIND_TRUNCATED: _ClassVar[ChainProblemKind]
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
CHAIN_PROBLEM_KIND_UNSPECIFIED: ChainProblemKind
CHAIN_PROBLEM_KIND_OTHER_TENANT: ChainProblemKind
CHAIN_PROBLEM_KIND_DUPLICATE: ChainProblemKind
CHAIN_PROBLEM_KIND_OUT_OF_ORDER: ChainProblemKind
CHAIN_PROBLEM_KIND_GAP: ChainProblemKind
CHAIN_PROBLEM_KIND_EDITED: ChainProblemKind
CHAIN_PROBLEM_KIND_BROKEN_LINK: ChainProblemKind
CHAIN_PROBLEM_KIND_ANCHOR_MISMATCH: ChainProblemKind
CHAIN_PROBLEM_KIND_TRUNCATED: ChainProblemKind

class CheckRequest(_message.Message):
    __slots__ = ("entity_type", "entity_id", "fields", "record_state", "source")
    class RecordStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StateValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StateValue, _Mapping]] = ...) -> None: ...
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    RECORD_STATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    entity_type: str
    entity_id: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    record_state: _containers.MessageMap[str, StateValue]
    source: _events_pb2.Source
    def __init__(self, entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., record_state: _Optional[_Mapping[str, StateValue]] = ..., source: _Optional[_Union[_events_pb2.Source, str]] = ...) -> None: ...

class StateValue(_message.Message):
    __slots__ = ("string_value", "int_value", "bool_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    bool_value: bool
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("allowed", "decisions", "tenant_id", "actor_id", "audit_event_ids")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIT_EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    decisions: _containers.RepeatedCompositeFieldContainer[FieldDecision]
    tenant_id: str
    actor_id: str
    audit_event_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allowed: _Optional[bool] = ..., decisions: _Optional[_Iterable[_Union[FieldDecision, _Mapping]]] = ..., tenant_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., audit_event_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class FieldDecision(_message.Message):
    __slots__ = ("field", "allowed", "rule_id", "reason", "policy_id", "policy_version", "approval_workflow")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    field: str
    allowed: bool
    rule_id: str
    reason: str
    policy_id: str
    policy_version: int
    approval_workflow: str
    def __init__(self, field: _Optional[str] = ..., allowed: _Optional[bool] = ..., rule_id: _Optional[str] = ..., reason: _Optional[str] = ..., policy_id: _Optional[str] = ..., policy_version: _Optional[int] = ..., approval_workflow: _Optional[str] = ...) -> None: ...

class RecordRequest(_message.Message):
    __slots__ = ("event_id", "entity_type", "entity_id", "field", "before_json", "after_json", "occurred_at", "source", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    entity_type: str
    entity_id: str
    field: str
    before_json: str
    after_json: str
    occurred_at: _timestamp_pb2.Timestamp
    source: _events_pb2.Source
    reason: str
    def __init__(self, event_id: _Optional[str] = ..., entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., field: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[_events_pb2.Source, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class RecordResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: _events_pb2.AuditRecord
    def __init__(self, record: _Optional[_Union[_events_pb2.AuditRecord, _Mapping]] = ...) -> None: ...

class RecordFilter(_message.Message):
    __slots__ = ("entity_type", "entity_id", "actor_id", "field", "since", "until")
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    entity_type: str
    entity_id: str
    actor_id: str
    field: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., field: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class QueryRecordsRequest(_message.Message):
    __slots__ = ("filter", "page_size", "after_sequence")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    filter: RecordFilter
    page_size: int
    after_sequence: int
    def __init__(self, filter: _Optional[_Union[RecordFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class QueryRecordsResponse(_message.Message):
    __slots__ = ("records", "next_after_sequence")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_events_pb2.AuditRecord]
    next_after_sequence: int
    def __init__(self, records: _Optional[_Iterable[_Union[_events_pb2.AuditRecord, _Mapping]]] = ..., next_after_sequence: _Optional[int] = ...) -> None: ...

class ExportRecordsRequest(_message.Message):
    __slots__ = ("filter", "format", "max_records")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    filter: RecordFilter
    format: ExportFormat
    max_records: int
    def __init__(self, filter: _Optional[_Union[RecordFilter, _Mapping]] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., max_records: _Optional[int] = ...) -> None: ...

class ExportRecordsResponse(_message.Message):
    __slots__ = ("content", "content_type", "record_count")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    content_type: str
    record_count: int
    def __init__(self, content: _Optional[bytes] = ..., content_type: _Optional[str] = ..., record_count: _Optional[int] = ...) -> None: ...

class VerifyChainRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyChainResponse(_message.Message):
    __slots__ = ("ok", "checked", "head_sequence", "head_hash", "problem", "problem_sequence", "detail")
    OK_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    checked: int
    head_sequence: int
    head_hash: str
    problem: ChainProblemKind
    problem_sequence: int
    detail: str
    def __init__(self, ok: _Optional[bool] = ..., checked: _Optional[int] = ..., head_sequence: _Optional[int] = ..., head_hash: _Optional[str] = ..., problem: _Optional[_Union[ChainProblemKind, str]] = ..., problem_sequence: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class ApprovalStep(_message.Message):
    __slots__ = ("name", "approver_roles", "opened_at", "due_at", "escalated", "escalation_role", "decided_by", "verdict", "reason", "decided_at", "decided_as_roles", "decision_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ROLES_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_ROLE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AS_ROLES_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    approver_roles: _containers.RepeatedScalarFieldContainer[str]
    opened_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    escalated: bool
    escalation_role: str
    decided_by: str
    verdict: _events_pb2.Verdict
    reason: str
    decided_at: _timestamp_pb2.Timestamp
    decided_as_roles: _containers.RepeatedScalarFieldContainer[str]
    decision_id: str
    def __init__(self, name: _Optional[str] = ..., approver_roles: _Optional[_Iterable[str]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalated: _Optional[bool] = ..., escalation_role: _Optional[str] = ..., decided_by: _Optional[str] = ..., verdict: _Optional[_Union[_events_pb2.Verdict, str]] = ..., reason: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_as_roles: _Optional[_Iterable[str]] = ..., decision_id: _Optional[str] = ...) -> None: ...

class ApprovalRequest(_message.Message):
    __slots__ = ("request_id", "workflow", "workflow_version", "change", "submitted_by", "submitted_at", "reason", "status", "steps", "version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    workflow: str
    workflow_version: int
    change: _events_pb2.ProposedChange
    submitted_by: str
    submitted_at: _timestamp_pb2.Timestamp
    reason: str
    status: _events_pb2.ApprovalStatus
    steps: _containers.RepeatedCompositeFieldContainer[ApprovalStep]
    version: int
    def __init__(self, request_id: _Optional[str] = ..., workflow: _Optional[str] = ..., workflow_version: _Optional[int] = ..., change: _Optional[_Union[_events_pb2.ProposedChange, _Mapping]] = ..., submitted_by: _Optional[str] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., status: _Optional[_Union[_events_pb2.ApprovalStatus, str]] = ..., steps: _Optional[_Iterable[_Union[ApprovalStep, _Mapping]]] = ..., version: _Optional[int] = ...) -> None: ...

class SubmitApprovalRequest(_message.Message):
    __slots__ = ("request_id", "workflow", "change", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    workflow: str
    change: _events_pb2.ProposedChange
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., workflow: _Optional[str] = ..., change: _Optional[_Union[_events_pb2.ProposedChange, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class SubmitApprovalResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ApprovalRequest
    def __init__(self, request: _Optional[_Union[ApprovalRequest, _Mapping]] = ...) -> None: ...

class DecideApprovalRequest(_message.Message):
    __slots__ = ("request_id", "step", "verdict", "reason", "decision_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    step: str
    verdict: _events_pb2.Verdict
    reason: str
    decision_id: str
    def __init__(self, request_id: _Optional[str] = ..., step: _Optional[str] = ..., verdict: _Optional[_Union[_events_pb2.Verdict, str]] = ..., reason: _Optional[str] = ..., decision_id: _Optional[str] = ...) -> None: ...

class DecideApprovalResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ApprovalRequest
    def __init__(self, request: _Optional[_Union[ApprovalRequest, _Mapping]] = ...) -> None: ...

class GetApprovalRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class GetApprovalResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ApprovalRequest
    def __init__(self, request: _Optional[_Union[ApprovalRequest, _Mapping]] = ...) -> None: ...

class ListPendingApprovalsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPendingApprovalsResponse(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ApprovalRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[ApprovalRequest, _Mapping]]] = ...) -> None: ...

class GetAnomalyReportRequest(_message.Message):
    __slots__ = ("week",)
    WEEK_FIELD_NUMBER: _ClassVar[int]
    week: str
    def __init__(self, week: _Optional[str] = ...) -> None: ...

class GetAnomalyReportResponse(_message.Message):
    __slots__ = ("report", "provisional")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    report: _events_pb2.AnomalyReport
    provisional: bool
    def __init__(self, report: _Optional[_Union[_events_pb2.AnomalyReport, _Mapping]] = ..., provisional: _Optional[bool] = ...) -> None: ...

import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_KIND_UNSPECIFIED: _ClassVar[ActionKind]
    ACTION_KIND_CALL: _ClassVar[ActionKind]
    ACTION_KIND_EMAIL: _ClassVar[ActionKind]
    ACTION_KIND_VISIT: _ClassVar[ActionKind]
    ACTION_KIND_NOTE: _ClassVar[ActionKind]

class EscalationLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_LEVEL_UNSPECIFIED: _ClassVar[EscalationLevel]
    ESCALATION_LEVEL_REP: _ClassVar[EscalationLevel]
    ESCALATION_LEVEL_MANAGER: _ClassVar[EscalationLevel]
    ESCALATION_LEVEL_DIRECTOR: _ClassVar[EscalationLevel]

class AlertStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATUS_UNSPECIFIED: _ClassVar[AlertStatus]
    ALERT_STATUS_OPEN: _ClassVar[AlertStatus]
    ALERT_STATUS_HANDLED: _ClassVar[AlertStatus]
    ALERT_STATUS_SNOOZED: _ClassVar[AlertStatus]
    ALERT_STATUS_RESOLVED: _ClassVar[AlertStatus]

class AlertKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_KIND_UNSPECIFIED: _ClassVar[AlertKind]
    ALERT_KIND_STALLED_OPPORTUNITY: _ClassVar[AlertKind]
    ALERT_KIND_LEAD_RESPONSE_OVERDUE: _ClassVar[AlertKind]
    ALERT_KIND_DUPLICATE_TOUCH: _ClassVar[AlertKind]
ACTION_KIND_UNSPECIFIED: ActionKind
ACTION_KIND_CALL: ActionKind
ACTION_KIND_EMAIL: ActionKind
ACTION_KIND_VISIT: ActionKind
ACTION_KIND_NOTE: ActionKind
ESCALATION_LEVEL_UNSPECIFIED: EscalationLevel
ESCALATION_LEVEL_REP: EscalationLevel
ESCALATION_LEVEL_MANAGER: EscalationLevel
ESCALATION_LEVEL_DIRECTOR: EscalationLevel
ALERT_STATUS_UNSPECIFIED: AlertStatus
ALERT_STATUS_OPEN: AlertStatus
ALERT_STATUS_HANDLED: AlertStatus
ALERT_STATUS_SNOOZED: AlertStatus
ALERT_STATUS_RESOLVED: AlertStatus
ALERT_KIND_UNSPECIFIED: AlertKind
ALERT_KIND_STALLED_OPPORTUNITY: AlertKind
ALERT_KIND_LEAD_RESPONSE_OVERDUE: AlertKind
ALERT_KIND_DUPLICATE_TOUCH: AlertKind

class OpportunityEvent(_message.Message):
    __slots__ = ("tenant_id", "opportunity_id", "actor_id", "occurred_at", "stall_threshold_seconds", "opened", "stage_changed", "action_recorded", "stall_deadline_reached", "alert_handled", "alert_snoozed", "alert_escalation_due")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    STALL_THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPENED_FIELD_NUMBER: _ClassVar[int]
    STAGE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ACTION_RECORDED_FIELD_NUMBER: _ClassVar[int]
    STALL_DEADLINE_REACHED_FIELD_NUMBER: _ClassVar[int]
    ALERT_HANDLED_FIELD_NUMBER: _ClassVar[int]
    ALERT_SNOOZED_FIELD_NUMBER: _ClassVar[int]
    ALERT_ESCALATION_DUE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    opportunity_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    stall_threshold_seconds: int
    opened: OpportunityOpened
    stage_changed: StageChanged
    action_recorded: ActionRecorded
    stall_deadline_reached: StallDeadlineReached
    alert_handled: AlertHandled
    alert_snoozed: AlertSnoozed
    alert_escalation_due: AlertEscalationDue
    def __init__(self, tenant_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stall_threshold_seconds: _Optional[int] = ..., opened: _Optional[_Union[OpportunityOpened, _Mapping]] = ..., stage_changed: _Optional[_Union[StageChanged, _Mapping]] = ..., action_recorded: _Optional[_Union[ActionRecorded, _Mapping]] = ..., stall_deadline_reached: _Optional[_Union[StallDeadlineReached, _Mapping]] = ..., alert_handled: _Optional[_Union[AlertHandled, _Mapping]] = ..., alert_snoozed: _Optional[_Union[AlertSnoozed, _Mapping]] = ..., alert_escalation_due: _Optional[_Union[AlertEscalationDue, _Mapping]] = ...) -> None: ...

class OpportunityOpened(_message.Message):
    __slots__ = ("account_id", "name", "owner_id", "stage", "amount_cents", "currency", "template_id", "template_version")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    template_id: str
    template_version: int
    def __init__(self, account_id: _Optional[str] = ..., name: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ..., template_id: _Optional[str] = ..., template_version: _Optional[int] = ...) -> None: ...

class StageChanged(_message.Message):
    __slots__ = ("from_stage", "to_stage", "all_mandatory_verified", "gate_override")
    FROM_STAGE_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    ALL_MANDATORY_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    GATE_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    from_stage: str
    to_stage: str
    all_mandatory_verified: bool
    gate_override: GateOverride
    def __init__(self, from_stage: _Optional[str] = ..., to_stage: _Optional[str] = ..., all_mandatory_verified: _Optional[bool] = ..., gate_override: _Optional[_Union[GateOverride, _Mapping]] = ...) -> None: ...

class GateOverride(_message.Message):
    __slots__ = ("reason", "missing_action_ids", "approval_workflow", "approval_request_id")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MISSING_ACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    reason: str
    missing_action_ids: _containers.RepeatedScalarFieldContainer[str]
    approval_workflow: str
    approval_request_id: str
    def __init__(self, reason: _Optional[str] = ..., missing_action_ids: _Optional[_Iterable[str]] = ..., approval_workflow: _Optional[str] = ..., approval_request_id: _Optional[str] = ...) -> None: ...

class ActionRecorded(_message.Message):
    __slots__ = ("action_id", "kind", "call_duration_seconds", "email_message_id", "checkin_id", "note", "valid", "invalid_reasons", "template_action_id", "stage", "submission")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKIN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    INVALID_REASONS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    kind: ActionKind
    call_duration_seconds: int
    email_message_id: str
    checkin_id: str
    note: str
    valid: bool
    invalid_reasons: _containers.RepeatedScalarFieldContainer[str]
    template_action_id: str
    stage: str
    submission: ActionSubmission
    def __init__(self, action_id: _Optional[str] = ..., kind: _Optional[_Union[ActionKind, str]] = ..., call_duration_seconds: _Optional[int] = ..., email_message_id: _Optional[str] = ..., checkin_id: _Optional[str] = ..., note: _Optional[str] = ..., valid: _Optional[bool] = ..., invalid_reasons: _Optional[_Iterable[str]] = ..., template_action_id: _Optional[str] = ..., stage: _Optional[str] = ..., submission: _Optional[_Union[ActionSubmission, _Mapping]] = ...) -> None: ...

class ActionSubmission(_message.Message):
    __slots__ = ("form", "items", "attachments", "activities", "approvals")
    class ItemsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ItemList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ItemList, _Mapping]] = ...) -> None: ...
    FORM_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_FIELD_NUMBER: _ClassVar[int]
    form: _struct_pb2.Struct
    items: _containers.MessageMap[str, ItemList]
    attachments: _containers.RepeatedCompositeFieldContainer[SubmittedAttachment]
    activities: _containers.RepeatedCompositeFieldContainer[ActivityFact]
    approvals: _containers.RepeatedCompositeFieldContainer[ApprovalFact]
    def __init__(self, form: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., items: _Optional[_Mapping[str, ItemList]] = ..., attachments: _Optional[_Iterable[_Union[SubmittedAttachment, _Mapping]]] = ..., activities: _Optional[_Iterable[_Union[ActivityFact, _Mapping]]] = ..., approvals: _Optional[_Iterable[_Union[ApprovalFact, _Mapping]]] = ...) -> None: ...

class ItemList(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, items: _Optional[_Iterable[str]] = ...) -> None: ...

class SubmittedAttachment(_message.Message):
    __slots__ = ("document_type", "file_name", "file_id", "size_bytes")
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    document_type: str
    file_name: str
    file_id: str
    size_bytes: int
    def __init__(self, document_type: _Optional[str] = ..., file_name: _Optional[str] = ..., file_id: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class ActivityFact(_message.Message):
    __slots__ = ("kind", "activity_id", "minutes", "effective", "reply_message_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    REPLY_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    activity_id: str
    minutes: float
    effective: bool
    reply_message_id: str
    def __init__(self, kind: _Optional[str] = ..., activity_id: _Optional[str] = ..., minutes: _Optional[float] = ..., effective: _Optional[bool] = ..., reply_message_id: _Optional[str] = ...) -> None: ...

class ApprovalFact(_message.Message):
    __slots__ = ("approval_id", "approver_role", "decision", "approver_id")
    APPROVAL_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ROLE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    approval_id: str
    approver_role: str
    decision: str
    approver_id: str
    def __init__(self, approval_id: _Optional[str] = ..., approver_role: _Optional[str] = ..., decision: _Optional[str] = ..., approver_id: _Optional[str] = ...) -> None: ...

class AlertHandled(_message.Message):
    __slots__ = ("alert_id", "note")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    note: str
    def __init__(self, alert_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class AlertSnoozed(_message.Message):
    __slots__ = ("alert_id", "reason", "until")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    reason: str
    until: _timestamp_pb2.Timestamp
    def __init__(self, alert_id: _Optional[str] = ..., reason: _Optional[str] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AlertEscalationDue(_message.Message):
    __slots__ = ("alert_id", "level", "due_at")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    level: EscalationLevel
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, alert_id: _Optional[str] = ..., level: _Optional[_Union[EscalationLevel, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StallDeadlineReached(_message.Message):
    __slots__ = ("stage", "deadline")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    deadline: _timestamp_pb2.Timestamp
    def __init__(self, stage: _Optional[str] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountEvent(_message.Message):
    __slots__ = ("tenant_id", "account_id", "actor_id", "occurred_at", "created", "grade_changed", "marketing_contact_set", "updated")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    GRADE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    MARKETING_CONTACT_SET_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    account_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    created: AccountCreated
    grade_changed: AccountGradeChanged
    marketing_contact_set: AccountMarketingContactSet
    updated: AccountUpdated
    def __init__(self, tenant_id: _Optional[str] = ..., account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created: _Optional[_Union[AccountCreated, _Mapping]] = ..., grade_changed: _Optional[_Union[AccountGradeChanged, _Mapping]] = ..., marketing_contact_set: _Optional[_Union[AccountMarketingContactSet, _Mapping]] = ..., updated: _Optional[_Union[AccountUpdated, _Mapping]] = ...) -> None: ...

class AccountCreated(_message.Message):
    __slots__ = ("name", "industry", "owner_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    industry: str
    owner_id: str
    def __init__(self, name: _Optional[str] = ..., industry: _Optional[str] = ..., owner_id: _Optional[str] = ...) -> None: ...

class RepEvent(_message.Message):
    __slots__ = ("tenant_id", "rep_id", "actor_id", "occurred_at", "registered")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    rep_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    registered: RepRegistered
    def __init__(self, tenant_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registered: _Optional[_Union[RepRegistered, _Mapping]] = ...) -> None: ...

class RepRegistered(_message.Message):
    __slots__ = ("display_name", "manager_id")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    manager_id: str
    def __init__(self, display_name: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class TenantPolicyEvent(_message.Message):
    __slots__ = ("tenant_id", "actor_id", "occurred_at", "stall", "policy")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    STALL_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    stall: StallPolicy
    policy: TenantPolicy
    def __init__(self, tenant_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stall: _Optional[_Union[StallPolicy, _Mapping]] = ..., policy: _Optional[_Union[TenantPolicy, _Mapping]] = ...) -> None: ...

class TenantPolicy(_message.Message):
    __slots__ = ("stall_threshold_seconds", "stage_stall_threshold_seconds", "escalate_to_manager_after_seconds", "escalate_to_director_after_seconds", "manager_followup_seconds", "lead_response_limit_seconds", "duplicate_touch_window_seconds", "duplicate_touch_min_reps", "dwell_factor", "compliance_green_percent", "compliance_yellow_percent", "process_quality_weight_percent", "timezone", "must_do_local_time", "weekly_report_weekday", "weekly_report_local_time", "min_call_duration_seconds", "min_note_length")
    class StageStallThresholdSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STALL_THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STAGE_STALL_THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_TO_MANAGER_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_TO_DIRECTOR_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MANAGER_FOLLOWUP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LEAD_RESPONSE_LIMIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_TOUCH_WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_TOUCH_MIN_REPS_FIELD_NUMBER: _ClassVar[int]
    DWELL_FACTOR_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_GREEN_PERCENT_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_YELLOW_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PROCESS_QUALITY_WEIGHT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    MUST_DO_LOCAL_TIME_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_REPORT_WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_REPORT_LOCAL_TIME_FIELD_NUMBER: _ClassVar[int]
    MIN_CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MIN_NOTE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    stall_threshold_seconds: int
    stage_stall_threshold_seconds: _containers.ScalarMap[str, int]
    escalate_to_manager_after_seconds: int
    escalate_to_director_after_seconds: int
    manager_followup_seconds: int
    lead_response_limit_seconds: int
    duplicate_touch_window_seconds: int
    duplicate_touch_min_reps: int
    dwell_factor: float
    compliance_green_percent: float
    compliance_yellow_percent: float
    process_quality_weight_percent: float
    timezone: str
    must_do_local_time: str
    weekly_report_weekday: str
    weekly_report_local_time: str
    min_call_duration_seconds: int
    min_note_length: int
    def __init__(self, stall_threshold_seconds: _Optional[int] = ..., stage_stall_threshold_seconds: _Optional[_Mapping[str, int]] = ..., escalate_to_manager_after_seconds: _Optional[int] = ..., escalate_to_director_after_seconds: _Optional[int] = ..., manager_followup_seconds: _Optional[int] = ..., lead_response_limit_seconds: _Optional[int] = ..., duplicate_touch_window_seconds: _Optional[int] = ..., duplicate_touch_min_reps: _Optional[int] = ..., dwell_factor: _Optional[float] = ..., compliance_green_percent: _Optional[float] = ..., compliance_yellow_percent: _Optional[float] = ..., process_quality_weight_percent: _Optional[float] = ..., timezone: _Optional[str] = ..., must_do_local_time: _Optional[str] = ..., weekly_report_weekday: _Optional[str] = ..., weekly_report_local_time: _Optional[str] = ..., min_call_duration_seconds: _Optional[int] = ..., min_note_length: _Optional[int] = ...) -> None: ...

class StallPolicy(_message.Message):
    __slots__ = ("threshold_seconds",)
    THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    threshold_seconds: int
    def __init__(self, threshold_seconds: _Optional[int] = ...) -> None: ...

class TemplatePublished(_message.Message):
    __slots__ = ("tenant_id", "actor_id", "occurred_at", "template_id", "version", "document_yaml", "fingerprint")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_YAML_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    template_id: str
    version: int
    document_yaml: str
    fingerprint: str
    def __init__(self, tenant_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., template_id: _Optional[str] = ..., version: _Optional[int] = ..., document_yaml: _Optional[str] = ..., fingerprint: _Optional[str] = ...) -> None: ...

class AlertRaised(_message.Message):
    __slots__ = ("tenant_id", "alert_id", "kind", "opportunity_id", "opportunity_name", "stage", "owner_id", "manager_id", "stage_entered_at", "last_valid_action_at", "deadline", "raised_at", "message", "escalation_level", "director_id", "status", "status_actor_id", "status_note", "status_changed_at", "snoozed_until", "lead_id", "account_id", "touches")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ENTERED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_VALID_ACTION_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_NOTE_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    SNOOZED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TOUCHES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    alert_id: str
    kind: AlertKind
    opportunity_id: str
    opportunity_name: str
    stage: str
    owner_id: str
    manager_id: str
    stage_entered_at: _timestamp_pb2.Timestamp
    last_valid_action_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    raised_at: _timestamp_pb2.Timestamp
    message: str
    escalation_level: EscalationLevel
    director_id: str
    status: AlertStatus
    status_actor_id: str
    status_note: str
    status_changed_at: _timestamp_pb2.Timestamp
    snoozed_until: _timestamp_pb2.Timestamp
    lead_id: str
    account_id: str
    touches: _containers.RepeatedCompositeFieldContainer[CustomerTouch]
    def __init__(self, tenant_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., kind: _Optional[_Union[AlertKind, str]] = ..., opportunity_id: _Optional[str] = ..., opportunity_name: _Optional[str] = ..., stage: _Optional[str] = ..., owner_id: _Optional[str] = ..., manager_id: _Optional[str] = ..., stage_entered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_valid_action_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., escalation_level: _Optional[_Union[EscalationLevel, str]] = ..., director_id: _Optional[str] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., status_actor_id: _Optional[str] = ..., status_note: _Optional[str] = ..., status_changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snoozed_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lead_id: _Optional[str] = ..., account_id: _Optional[str] = ..., touches: _Optional[_Iterable[_Union[CustomerTouch, _Mapping]]] = ...) -> None: ...

class CustomerTouch(_message.Message):
    __slots__ = ("activity_id", "rep_id", "occurred_at", "kind")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    rep_id: str
    occurred_at: _timestamp_pb2.Timestamp
    kind: str
    def __init__(self, activity_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ...) -> None: ...

class TodoCreated(_message.Message):
    __slots__ = ("tenant_id", "todo_id", "assignee_id", "assignee_role", "title", "opportunity_id", "alert_id", "due_at", "created_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TODO_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ROLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    todo_id: str
    assignee_id: str
    assignee_role: str
    title: str
    opportunity_id: str
    alert_id: str
    due_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., todo_id: _Optional[str] = ..., assignee_id: _Optional[str] = ..., assignee_role: _Optional[str] = ..., title: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountGradeChanged(_message.Message):
    __slots__ = ("from_grade", "to_grade", "approval_request_id", "approved_by", "requested_by")
    FROM_GRADE_FIELD_NUMBER: _ClassVar[int]
    TO_GRADE_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    from_grade: str
    to_grade: str
    approval_request_id: str
    approved_by: _containers.RepeatedScalarFieldContainer[str]
    requested_by: str
    def __init__(self, from_grade: _Optional[str] = ..., to_grade: _Optional[str] = ..., approval_request_id: _Optional[str] = ..., approved_by: _Optional[_Iterable[str]] = ..., requested_by: _Optional[str] = ...) -> None: ...

class AccountMarketingContactSet(_message.Message):
    __slots__ = ("marketing_contact_id", "display_name", "email", "wecom_webhook_url", "dingtalk_webhook_url", "dingtalk_secret", "mention_id")
    MARKETING_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    WECOM_WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_SECRET_FIELD_NUMBER: _ClassVar[int]
    MENTION_ID_FIELD_NUMBER: _ClassVar[int]
    marketing_contact_id: str
    display_name: str
    email: str
    wecom_webhook_url: str
    dingtalk_webhook_url: str
    dingtalk_secret: str
    mention_id: str
    def __init__(self, marketing_contact_id: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., wecom_webhook_url: _Optional[str] = ..., dingtalk_webhook_url: _Optional[str] = ..., dingtalk_secret: _Optional[str] = ..., mention_id: _Optional[str] = ...) -> None: ...

class AccountUpdated(_message.Message):
    __slots__ = ("name", "industry", "owner_id", "address", "latitude", "longitude", "contact_name", "contact_phone", "contact_email", "contact_title", "decision_maker", "grade")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    CONTACT_TITLE_FIELD_NUMBER: _ClassVar[int]
    DECISION_MAKER_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    name: str
    industry: str
    owner_id: str
    address: str
    latitude: float
    longitude: float
    contact_name: str
    contact_phone: str
    contact_email: str
    contact_title: str
    decision_maker: str
    grade: str
    def __init__(self, name: _Optional[str] = ..., industry: _Optional[str] = ..., owner_id: _Optional[str] = ..., address: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., contact_name: _Optional[str] = ..., contact_phone: _Optional[str] = ..., contact_email: _Optional[str] = ..., contact_title: _Optional[str] = ..., decision_maker: _Optional[str] = ..., grade: _Optional[str] = ...) -> None: ...

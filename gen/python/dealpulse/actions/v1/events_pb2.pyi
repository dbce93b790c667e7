import datetime

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

class AlertKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_KIND_UNSPECIFIED: _ClassVar[AlertKind]
    ALERT_KIND_STALLED_OPPORTUNITY: _ClassVar[AlertKind]
ACTION_KIND_UNSPECIFIED: ActionKind
ACTION_KIND_CALL: ActionKind
ACTION_KIND_EMAIL: ActionKind
ACTION_KIND_VISIT: ActionKind
ACTION_KIND_NOTE: ActionKind
ALERT_KIND_UNSPECIFIED: AlertKind
ALERT_KIND_STALLED_OPPORTUNITY: AlertKind

class OpportunityEvent(_message.Message):
    __slots__ = ("tenant_id", "opportunity_id", "actor_id", "occurred_at", "stall_threshold_seconds", "opened", "stage_changed", "action_recorded", "stall_deadline_reached")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    STALL_THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPENED_FIELD_NUMBER: _ClassVar[int]
    STAGE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ACTION_RECORDED_FIELD_NUMBER: _ClassVar[int]
    STALL_DEADLINE_REACHED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    opportunity_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    stall_threshold_seconds: int
    opened: OpportunityOpened
    stage_changed: StageChanged
    action_recorded: ActionRecorded
    stall_deadline_reached: StallDeadlineReached
    def __init__(self, tenant_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stall_threshold_seconds: _Optional[int] = ..., opened: _Optional[_Union[OpportunityOpened, _Mapping]] = ..., stage_changed: _Optional[_Union[StageChanged, _Mapping]] = ..., action_recorded: _Optional[_Union[ActionRecorded, _Mapping]] = ..., stall_deadline_reached: _Optional[_Union[StallDeadlineReached, _Mapping]] = ...) -> None: ...

class OpportunityOpened(_message.Message):
    __slots__ = ("account_id", "name", "owner_id", "stage", "amount_cents", "currency")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    def __init__(self, account_id: _Optional[str] = ..., name: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class StageChanged(_message.Message):
    __slots__ = ("from_stage", "to_stage")
    FROM_STAGE_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    from_stage: str
    to_stage: str
    def __init__(self, from_stage: _Optional[str] = ..., to_stage: _Optional[str] = ...) -> None: ...

class ActionRecorded(_message.Message):
    __slots__ = ("action_id", "kind", "call_duration_seconds", "email_message_id", "checkin_id", "note", "valid", "invalid_reasons")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKIN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    INVALID_REASONS_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    kind: ActionKind
    call_duration_seconds: int
    email_message_id: str
    checkin_id: str
    note: str
    valid: bool
    invalid_reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, action_id: _Optional[str] = ..., kind: _Optional[_Union[ActionKind, str]] = ..., call_duration_seconds: _Optional[int] = ..., email_message_id: _Optional[str] = ..., checkin_id: _Optional[str] = ..., note: _Optional[str] = ..., valid: _Optional[bool] = ..., invalid_reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class StallDeadlineReached(_message.Message):
    __slots__ = ("stage", "deadline")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    deadline: _timestamp_pb2.Timestamp
    def __init__(self, stage: _Optional[str] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountEvent(_message.Message):
    __slots__ = ("tenant_id", "account_id", "actor_id", "occurred_at", "created")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    account_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    created: AccountCreated
    def __init__(self, tenant_id: _Optional[str] = ..., account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created: _Optional[_Union[AccountCreated, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("tenant_id", "actor_id", "occurred_at", "stall")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    STALL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    stall: StallPolicy
    def __init__(self, tenant_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stall: _Optional[_Union[StallPolicy, _Mapping]] = ...) -> None: ...

class StallPolicy(_message.Message):
    __slots__ = ("threshold_seconds",)
    THRESHOLD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    threshold_seconds: int
    def __init__(self, threshold_seconds: _Optional[int] = ...) -> None: ...

class AlertRaised(_message.Message):
    __slots__ = ("tenant_id", "alert_id", "kind", "opportunity_id", "opportunity_name", "stage", "owner_id", "manager_id", "stage_entered_at", "last_valid_action_at", "deadline", "raised_at", "message")
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
    def __init__(self, tenant_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., kind: _Optional[_Union[AlertKind, str]] = ..., opportunity_id: _Optional[str] = ..., opportunity_name: _Optional[str] = ..., stage: _Optional[str] = ..., owner_id: _Optional[str] = ..., manager_id: _Optional[str] = ..., stage_entered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_valid_action_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

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

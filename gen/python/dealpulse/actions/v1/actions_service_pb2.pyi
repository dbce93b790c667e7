import datetime

from dealpulse.actions.v1 import events_pb2 as _events_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Account(_message.Message):
    __slots__ = ("account_id", "name", "industry", "owner_id", "created_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    name: str
    industry: str
    owner_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., name: _Optional[str] = ..., industry: _Optional[str] = ..., owner_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAccountRequest(_message.Message):
    __slots__ = ("account_id", "name", "industry", "owner_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    name: str
    industry: str
    owner_id: str
    def __init__(self, account_id: _Optional[str] = ..., name: _Optional[str] = ..., industry: _Optional[str] = ..., owner_id: _Optional[str] = ...) -> None: ...

class CreateAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class Rep(_message.Message):
    __slots__ = ("rep_id", "display_name", "manager_id")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    display_name: str
    manager_id: str
    def __init__(self, rep_id: _Optional[str] = ..., display_name: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class RegisterRepRequest(_message.Message):
    __slots__ = ("rep_id", "display_name", "manager_id")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    display_name: str
    manager_id: str
    def __init__(self, rep_id: _Optional[str] = ..., display_name: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class RegisterRepResponse(_message.Message):
    __slots__ = ("rep",)
    REP_FIELD_NUMBER: _ClassVar[int]
    rep: Rep
    def __init__(self, rep: _Optional[_Union[Rep, _Mapping]] = ...) -> None: ...

class SetStallPolicyRequest(_message.Message):
    __slots__ = ("stall",)
    STALL_FIELD_NUMBER: _ClassVar[int]
    stall: _events_pb2.StallPolicy
    def __init__(self, stall: _Optional[_Union[_events_pb2.StallPolicy, _Mapping]] = ...) -> None: ...

class SetStallPolicyResponse(_message.Message):
    __slots__ = ("stall",)
    STALL_FIELD_NUMBER: _ClassVar[int]
    stall: _events_pb2.StallPolicy
    def __init__(self, stall: _Optional[_Union[_events_pb2.StallPolicy, _Mapping]] = ...) -> None: ...

class GetStallPolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStallPolicyResponse(_message.Message):
    __slots__ = ("stall",)
    STALL_FIELD_NUMBER: _ClassVar[int]
    stall: _events_pb2.StallPolicy
    def __init__(self, stall: _Optional[_Union[_events_pb2.StallPolicy, _Mapping]] = ...) -> None: ...

class Action(_message.Message):
    __slots__ = ("action_id", "kind", "valid", "invalid_reasons", "occurred_at", "actor_id")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    INVALID_REASONS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    kind: _events_pb2.ActionKind
    valid: bool
    invalid_reasons: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    actor_id: str
    def __init__(self, action_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.ActionKind, str]] = ..., valid: _Optional[bool] = ..., invalid_reasons: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class Opportunity(_message.Message):
    __slots__ = ("opportunity_id", "account_id", "name", "owner_id", "stage", "amount_cents", "currency", "opened_at", "stage_entered_at", "last_valid_action_at", "stall_deadline", "actions", "version", "open_alert_id")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    STAGE_ENTERED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_VALID_ACTION_AT_FIELD_NUMBER: _ClassVar[int]
    STALL_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OPEN_ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    opened_at: _timestamp_pb2.Timestamp
    stage_entered_at: _timestamp_pb2.Timestamp
    last_valid_action_at: _timestamp_pb2.Timestamp
    stall_deadline: _timestamp_pb2.Timestamp
    actions: _containers.RepeatedCompositeFieldContainer[Action]
    version: int
    open_alert_id: str
    def __init__(self, opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., name: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stage_entered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_valid_action_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stall_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[Action, _Mapping]]] = ..., version: _Optional[int] = ..., open_alert_id: _Optional[str] = ...) -> None: ...

class OpenOpportunityRequest(_message.Message):
    __slots__ = ("opportunity_id", "account_id", "name", "owner_id", "stage", "amount_cents", "currency")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    def __init__(self, opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., name: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class OpenOpportunityResponse(_message.Message):
    __slots__ = ("opportunity",)
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    opportunity: Opportunity
    def __init__(self, opportunity: _Optional[_Union[Opportunity, _Mapping]] = ...) -> None: ...

class GetOpportunityRequest(_message.Message):
    __slots__ = ("opportunity_id",)
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    def __init__(self, opportunity_id: _Optional[str] = ...) -> None: ...

class GetOpportunityResponse(_message.Message):
    __slots__ = ("opportunity",)
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    opportunity: Opportunity
    def __init__(self, opportunity: _Optional[_Union[Opportunity, _Mapping]] = ...) -> None: ...

class ChangeStageRequest(_message.Message):
    __slots__ = ("opportunity_id", "to_stage")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    to_stage: str
    def __init__(self, opportunity_id: _Optional[str] = ..., to_stage: _Optional[str] = ...) -> None: ...

class ChangeStageResponse(_message.Message):
    __slots__ = ("opportunity",)
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    opportunity: Opportunity
    def __init__(self, opportunity: _Optional[_Union[Opportunity, _Mapping]] = ...) -> None: ...

class RecordActionRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_id", "kind", "call_duration_seconds", "email_message_id", "checkin_id", "note", "occurred_at")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKIN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_id: str
    kind: _events_pb2.ActionKind
    call_duration_seconds: int
    email_message_id: str
    checkin_id: str
    note: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, opportunity_id: _Optional[str] = ..., action_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.ActionKind, str]] = ..., call_duration_seconds: _Optional[int] = ..., email_message_id: _Optional[str] = ..., checkin_id: _Optional[str] = ..., note: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordActionResponse(_message.Message):
    __slots__ = ("opportunity", "action")
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    opportunity: Opportunity
    action: Action
    def __init__(self, opportunity: _Optional[_Union[Opportunity, _Mapping]] = ..., action: _Optional[_Union[Action, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("opportunity_id",)
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    def __init__(self, opportunity_id: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[_events_pb2.AlertRaised]
    def __init__(self, alerts: _Optional[_Iterable[_Union[_events_pb2.AlertRaised, _Mapping]]] = ...) -> None: ...

class ListTodosRequest(_message.Message):
    __slots__ = ("assignee_id",)
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    assignee_id: str
    def __init__(self, assignee_id: _Optional[str] = ...) -> None: ...

class ListTodosResponse(_message.Message):
    __slots__ = ("todos",)
    TODOS_FIELD_NUMBER: _ClassVar[int]
    todos: _containers.RepeatedCompositeFieldContainer[_events_pb2.TodoCreated]
    def __init__(self, todos: _Optional[_Iterable[_Union[_events_pb2.TodoCreated, _Mapping]]] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeadContactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_CONTACT_KIND_UNSPECIFIED: _ClassVar[LeadContactKind]
    LEAD_CONTACT_KIND_CALL: _ClassVar[LeadContactKind]
    LEAD_CONTACT_KIND_EMAIL: _ClassVar[LeadContactKind]
    LEAD_CONTACT_KIND_WECOM_CONTACT: _ClassVar[LeadContactKind]
    LEAD_CONTACT_KIND_EFFECTIVE_VISIT: _ClassVar[LeadContactKind]
LEAD_CONTACT_KIND_UNSPECIFIED: LeadContactKind
LEAD_CONTACT_KIND_CALL: LeadContactKind
LEAD_CONTACT_KIND_EMAIL: LeadContactKind
LEAD_CONTACT_KIND_WECOM_CONTACT: LeadContactKind
LEAD_CONTACT_KIND_EFFECTIVE_VISIT: LeadContactKind

class LeadEvent(_message.Message):
    __slots__ = ("tenant_id", "lead_id", "actor_id", "occurred_at", "response_limit_seconds", "min_call_duration_seconds", "created", "assigned", "contacted", "response_deadline_reached", "converted")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_LIMIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MIN_CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    CONTACTED_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_DEADLINE_REACHED_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    lead_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    response_limit_seconds: int
    min_call_duration_seconds: int
    created: LeadCreated
    assigned: LeadAssigned
    contacted: LeadContacted
    response_deadline_reached: LeadResponseDeadlineReached
    converted: LeadConverted
    def __init__(self, tenant_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_limit_seconds: _Optional[int] = ..., min_call_duration_seconds: _Optional[int] = ..., created: _Optional[_Union[LeadCreated, _Mapping]] = ..., assigned: _Optional[_Union[LeadAssigned, _Mapping]] = ..., contacted: _Optional[_Union[LeadContacted, _Mapping]] = ..., response_deadline_reached: _Optional[_Union[LeadResponseDeadlineReached, _Mapping]] = ..., converted: _Optional[_Union[LeadConverted, _Mapping]] = ...) -> None: ...

class LeadCreated(_message.Message):
    __slots__ = ("name", "company", "contact_phone", "contact_email", "source", "account_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    company: str
    contact_phone: str
    contact_email: str
    source: str
    account_id: str
    def __init__(self, name: _Optional[str] = ..., company: _Optional[str] = ..., contact_phone: _Optional[str] = ..., contact_email: _Optional[str] = ..., source: _Optional[str] = ..., account_id: _Optional[str] = ...) -> None: ...

class LeadAssigned(_message.Message):
    __slots__ = ("rep_id", "previous_rep_id", "reason")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_REP_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    previous_rep_id: str
    reason: str
    def __init__(self, rep_id: _Optional[str] = ..., previous_rep_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class LeadContacted(_message.Message):
    __slots__ = ("activity_id", "rep_id", "kind", "call_duration_seconds")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    rep_id: str
    kind: LeadContactKind
    call_duration_seconds: int
    def __init__(self, activity_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., kind: _Optional[_Union[LeadContactKind, str]] = ..., call_duration_seconds: _Optional[int] = ...) -> None: ...

class LeadResponseDeadlineReached(_message.Message):
    __slots__ = ("rep_id", "assigned_at", "deadline")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    assigned_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    def __init__(self, rep_id: _Optional[str] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LeadConverted(_message.Message):
    __slots__ = ("opportunity_id", "rep_id", "assigned_at")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    rep_id: str
    assigned_at: _timestamp_pb2.Timestamp
    def __init__(self, opportunity_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

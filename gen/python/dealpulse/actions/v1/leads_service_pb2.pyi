import datetime

from dealpulse.actions.v1 import leads_pb2 as _leads_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeadStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_STATUS_UNSPECIFIED: _ClassVar[LeadStatus]
    LEAD_STATUS_UNASSIGNED: _ClassVar[LeadStatus]
    LEAD_STATUS_AWAITING_RESPONSE: _ClassVar[LeadStatus]
    LEAD_STATUS_RESPONDED: _ClassVar[LeadStatus]
    LEAD_STATUS_CONVERTED: _ClassVar[LeadStatus]
LEAD_STATUS_UNSPECIFIED: LeadStatus
LEAD_STATUS_UNASSIGNED: LeadStatus
LEAD_STATUS_AWAITING_RESPONSE: LeadStatus
LEAD_STATUS_RESPONDED: LeadStatus
LEAD_STATUS_CONVERTED: LeadStatus

class LeadAssignment(_message.Message):
    __slots__ = ("rep_id", "assigned_at", "response_due_at", "responded_at", "response_kind", "response_activity_id", "overdue", "ended_at", "alert_id")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONDED_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_KIND_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    assigned_at: _timestamp_pb2.Timestamp
    response_due_at: _timestamp_pb2.Timestamp
    responded_at: _timestamp_pb2.Timestamp
    response_kind: _leads_pb2.LeadContactKind
    response_activity_id: str
    overdue: bool
    ended_at: _timestamp_pb2.Timestamp
    alert_id: str
    def __init__(self, rep_id: _Optional[str] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., responded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_kind: _Optional[_Union[_leads_pb2.LeadContactKind, str]] = ..., response_activity_id: _Optional[str] = ..., overdue: _Optional[bool] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., alert_id: _Optional[str] = ...) -> None: ...

class Lead(_message.Message):
    __slots__ = ("lead_id", "name", "company", "contact_phone", "contact_email", "source", "account_id", "owner_id", "status", "created_at", "response_due_at", "first_response_at", "response_seconds", "opportunity_id", "converted_at", "assignments")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    FIRST_RESPONSE_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    name: str
    company: str
    contact_phone: str
    contact_email: str
    source: str
    account_id: str
    owner_id: str
    status: LeadStatus
    created_at: _timestamp_pb2.Timestamp
    response_due_at: _timestamp_pb2.Timestamp
    first_response_at: _timestamp_pb2.Timestamp
    response_seconds: int
    opportunity_id: str
    converted_at: _timestamp_pb2.Timestamp
    assignments: _containers.RepeatedCompositeFieldContainer[LeadAssignment]
    def __init__(self, lead_id: _Optional[str] = ..., name: _Optional[str] = ..., company: _Optional[str] = ..., contact_phone: _Optional[str] = ..., contact_email: _Optional[str] = ..., source: _Optional[str] = ..., account_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., status: _Optional[_Union[LeadStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_response_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_seconds: _Optional[int] = ..., opportunity_id: _Optional[str] = ..., converted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignments: _Optional[_Iterable[_Union[LeadAssignment, _Mapping]]] = ...) -> None: ...

class CreateLeadRequest(_message.Message):
    __slots__ = ("lead_id", "name", "company", "contact_phone", "contact_email", "source", "account_id", "rep_id")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    name: str
    company: str
    contact_phone: str
    contact_email: str
    source: str
    account_id: str
    rep_id: str
    def __init__(self, lead_id: _Optional[str] = ..., name: _Optional[str] = ..., company: _Optional[str] = ..., contact_phone: _Optional[str] = ..., contact_email: _Optional[str] = ..., source: _Optional[str] = ..., account_id: _Optional[str] = ..., rep_id: _Optional[str] = ...) -> None: ...

class CreateLeadResponse(_message.Message):
    __slots__ = ("lead",)
    LEAD_FIELD_NUMBER: _ClassVar[int]
    lead: Lead
    def __init__(self, lead: _Optional[_Union[Lead, _Mapping]] = ...) -> None: ...

class AssignLeadRequest(_message.Message):
    __slots__ = ("lead_id", "rep_id", "reason")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    rep_id: str
    reason: str
    def __init__(self, lead_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AssignLeadResponse(_message.Message):
    __slots__ = ("lead",)
    LEAD_FIELD_NUMBER: _ClassVar[int]
    lead: Lead
    def __init__(self, lead: _Optional[_Union[Lead, _Mapping]] = ...) -> None: ...

class GetLeadRequest(_message.Message):
    __slots__ = ("lead_id",)
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    def __init__(self, lead_id: _Optional[str] = ...) -> None: ...

class GetLeadResponse(_message.Message):
    __slots__ = ("lead",)
    LEAD_FIELD_NUMBER: _ClassVar[int]
    lead: Lead
    def __init__(self, lead: _Optional[_Union[Lead, _Mapping]] = ...) -> None: ...

class ListLeadsRequest(_message.Message):
    __slots__ = ("owner_id", "status", "page_size")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    status: LeadStatus
    page_size: int
    def __init__(self, owner_id: _Optional[str] = ..., status: _Optional[_Union[LeadStatus, str]] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListLeadsResponse(_message.Message):
    __slots__ = ("leads",)
    LEADS_FIELD_NUMBER: _ClassVar[int]
    leads: _containers.RepeatedCompositeFieldContainer[Lead]
    def __init__(self, leads: _Optional[_Iterable[_Union[Lead, _Mapping]]] = ...) -> None: ...

class ConvertLeadRequest(_message.Message):
    __slots__ = ("lead_id", "opportunity_id")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    opportunity_id: str
    def __init__(self, lead_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ...) -> None: ...

class ConvertLeadResponse(_message.Message):
    __slots__ = ("lead",)
    LEAD_FIELD_NUMBER: _ClassVar[int]
    lead: Lead
    def __init__(self, lead: _Optional[_Union[Lead, _Mapping]] = ...) -> None: ...

class GetLeadResponseStatsRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class LeadResponseDistribution(_message.Message):
    __slots__ = ("id", "assignments", "answered", "answered_within_limit", "overdue_unanswered", "pending", "p50_seconds", "p90_seconds", "within_limit_percent", "lead_ids")
    ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_WITHIN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_UNANSWERED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P90_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WITHIN_LIMIT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    LEAD_IDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    assignments: int
    answered: int
    answered_within_limit: int
    overdue_unanswered: int
    pending: int
    p50_seconds: float
    p90_seconds: float
    within_limit_percent: float
    lead_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., assignments: _Optional[int] = ..., answered: _Optional[int] = ..., answered_within_limit: _Optional[int] = ..., overdue_unanswered: _Optional[int] = ..., pending: _Optional[int] = ..., p50_seconds: _Optional[float] = ..., p90_seconds: _Optional[float] = ..., within_limit_percent: _Optional[float] = ..., lead_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLeadResponseStatsResponse(_message.Message):
    __slots__ = ("limit_seconds", "to", "reps", "teams", "total")
    LIMIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    limit_seconds: int
    to: _timestamp_pb2.Timestamp
    reps: _containers.RepeatedCompositeFieldContainer[LeadResponseDistribution]
    teams: _containers.RepeatedCompositeFieldContainer[LeadResponseDistribution]
    total: LeadResponseDistribution
    def __init__(self, limit_seconds: _Optional[int] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reps: _Optional[_Iterable[_Union[LeadResponseDistribution, _Mapping]]] = ..., teams: _Optional[_Iterable[_Union[LeadResponseDistribution, _Mapping]]] = ..., total: _Optional[_Union[LeadResponseDistribution, _Mapping]] = ..., **kwargs) -> None: ...

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

class ActivitySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVITY_SOURCE_UNSPECIFIED: _ClassVar[ActivitySource]
    ACTIVITY_SOURCE_DINGTALK: _ClassVar[ActivitySource]
    ACTIVITY_SOURCE_WECOM: _ClassVar[ActivitySource]
    ACTIVITY_SOURCE_EMAIL: _ClassVar[ActivitySource]
    ACTIVITY_SOURCE_CSV: _ClassVar[ActivitySource]

class EmailDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMAIL_DIRECTION_UNSPECIFIED: _ClassVar[EmailDirection]
    EMAIL_DIRECTION_OUTBOUND: _ClassVar[EmailDirection]
    EMAIL_DIRECTION_INBOUND: _ClassVar[EmailDirection]

class ExternalContactChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXTERNAL_CONTACT_CHANGE_UNSPECIFIED: _ClassVar[ExternalContactChange]
    EXTERNAL_CONTACT_CHANGE_ADDED: _ClassVar[ExternalContactChange]
    EXTERNAL_CONTACT_CHANGE_HALF_ADDED: _ClassVar[ExternalContactChange]
    EXTERNAL_CONTACT_CHANGE_EDITED: _ClassVar[ExternalContactChange]
    EXTERNAL_CONTACT_CHANGE_DELETED: _ClassVar[ExternalContactChange]
    EXTERNAL_CONTACT_CHANGE_FOLLOW_DELETED: _ClassVar[ExternalContactChange]
    EXTERNAL_CONTACT_CHANGE_TRANSFER_FAILED: _ClassVar[ExternalContactChange]
ACTIVITY_SOURCE_UNSPECIFIED: ActivitySource
ACTIVITY_SOURCE_DINGTALK: ActivitySource
ACTIVITY_SOURCE_WECOM: ActivitySource
ACTIVITY_SOURCE_EMAIL: ActivitySource
ACTIVITY_SOURCE_CSV: ActivitySource
EMAIL_DIRECTION_UNSPECIFIED: EmailDirection
EMAIL_DIRECTION_OUTBOUND: EmailDirection
EMAIL_DIRECTION_INBOUND: EmailDirection
EXTERNAL_CONTACT_CHANGE_UNSPECIFIED: ExternalContactChange
EXTERNAL_CONTACT_CHANGE_ADDED: ExternalContactChange
EXTERNAL_CONTACT_CHANGE_HALF_ADDED: ExternalContactChange
EXTERNAL_CONTACT_CHANGE_EDITED: ExternalContactChange
EXTERNAL_CONTACT_CHANGE_DELETED: ExternalContactChange
EXTERNAL_CONTACT_CHANGE_FOLLOW_DELETED: ExternalContactChange
EXTERNAL_CONTACT_CHANGE_TRANSFER_FAILED: ExternalContactChange

class ActivityEvent(_message.Message):
    __slots__ = ("tenant_id", "activity_id", "source", "source_id", "occurred_at", "received_at", "rep_id", "customer_id", "opportunity_id", "lead_id", "external_contact_id", "evidence", "check_in", "check_out", "visit", "call", "email", "external_contact", "requirement_note")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_FIELD_NUMBER: _ClassVar[int]
    CHECK_OUT_FIELD_NUMBER: _ClassVar[int]
    VISIT_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_CONTACT_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_NOTE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    activity_id: str
    source: ActivitySource
    source_id: str
    occurred_at: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    rep_id: str
    customer_id: str
    opportunity_id: str
    lead_id: str
    external_contact_id: str
    evidence: _struct_pb2.Struct
    check_in: CheckIn
    check_out: CheckOut
    visit: Visit
    call: Call
    email: Email
    external_contact: ExternalContactChanged
    requirement_note: RequirementNote
    def __init__(self, tenant_id: _Optional[str] = ..., activity_id: _Optional[str] = ..., source: _Optional[_Union[ActivitySource, str]] = ..., source_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rep_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., external_contact_id: _Optional[str] = ..., evidence: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., check_in: _Optional[_Union[CheckIn, _Mapping]] = ..., check_out: _Optional[_Union[CheckOut, _Mapping]] = ..., visit: _Optional[_Union[Visit, _Mapping]] = ..., call: _Optional[_Union[Call, _Mapping]] = ..., email: _Optional[_Union[Email, _Mapping]] = ..., external_contact: _Optional[_Union[ExternalContactChanged, _Mapping]] = ..., requirement_note: _Optional[_Union[RequirementNote, _Mapping]] = ...) -> None: ...

class GeoLocation(_message.Message):
    __slots__ = ("latitude", "longitude", "address")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    address: str
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., address: _Optional[str] = ...) -> None: ...

class CheckIn(_message.Message):
    __slots__ = ("location", "vendor_user_id")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    VENDOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    location: GeoLocation
    vendor_user_id: str
    def __init__(self, location: _Optional[_Union[GeoLocation, _Mapping]] = ..., vendor_user_id: _Optional[str] = ...) -> None: ...

class CheckOut(_message.Message):
    __slots__ = ("location", "vendor_user_id", "check_in_activity_id")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    VENDOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHECK_IN_ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    location: GeoLocation
    vendor_user_id: str
    check_in_activity_id: str
    def __init__(self, location: _Optional[_Union[GeoLocation, _Mapping]] = ..., vendor_user_id: _Optional[str] = ..., check_in_activity_id: _Optional[str] = ...) -> None: ...

class Visit(_message.Message):
    __slots__ = ("location", "duration_seconds", "note")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    location: GeoLocation
    duration_seconds: int
    note: str
    def __init__(self, location: _Optional[_Union[GeoLocation, _Mapping]] = ..., duration_seconds: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class Call(_message.Message):
    __slots__ = ("duration_seconds", "vendor_user_id", "call_type", "callees")
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VENDOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_TYPE_FIELD_NUMBER: _ClassVar[int]
    CALLEES_FIELD_NUMBER: _ClassVar[int]
    duration_seconds: int
    vendor_user_id: str
    call_type: str
    callees: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, duration_seconds: _Optional[int] = ..., vendor_user_id: _Optional[str] = ..., call_type: _Optional[str] = ..., callees: _Optional[_Iterable[str]] = ...) -> None: ...

class Email(_message.Message):
    __slots__ = ("direction", "message_id", "subject", "to", "cc", "is_reply", "in_reply_to", "attachments")
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    IS_REPLY_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    direction: EmailDirection
    message_id: str
    subject: str
    to: _containers.RepeatedScalarFieldContainer[str]
    cc: _containers.RepeatedScalarFieldContainer[str]
    is_reply: bool
    in_reply_to: str
    attachments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, direction: _Optional[_Union[EmailDirection, str]] = ..., message_id: _Optional[str] = ..., subject: _Optional[str] = ..., to: _Optional[_Iterable[str]] = ..., cc: _Optional[_Iterable[str]] = ..., is_reply: _Optional[bool] = ..., in_reply_to: _Optional[str] = ..., attachments: _Optional[_Iterable[str]] = ..., **kwargs) -> None: ...

class ExternalContactChanged(_message.Message):
    __slots__ = ("change", "vendor_user_id", "state")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    VENDOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    change: ExternalContactChange
    vendor_user_id: str
    state: str
    def __init__(self, change: _Optional[_Union[ExternalContactChange, str]] = ..., vendor_user_id: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class RequirementNote(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

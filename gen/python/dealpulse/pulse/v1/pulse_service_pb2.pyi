import datetime

from dealpulse.pulse.v1 import events_pb2 as _events_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetHealthBoardRequest(_message.Message):
    __slots__ = ("day", "manager_id")
    DAY_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    day: str
    manager_id: str
    def __init__(self, day: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class GetHealthBoardResponse(_message.Message):
    __slots__ = ("tenant_id", "day", "team", "reps", "incomplete_customers", "watermark", "too_late")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    INCOMPLETE_CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    WATERMARK_FIELD_NUMBER: _ClassVar[int]
    TOO_LATE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    day: str
    team: _containers.RepeatedCompositeFieldContainer[IndicatorValue]
    reps: _containers.RepeatedCompositeFieldContainer[RepBoard]
    incomplete_customers: _containers.RepeatedCompositeFieldContainer[CustomerGaps]
    watermark: _timestamp_pb2.Timestamp
    too_late: _containers.RepeatedCompositeFieldContainer[LateEvent]
    def __init__(self, tenant_id: _Optional[str] = ..., day: _Optional[str] = ..., team: _Optional[_Iterable[_Union[IndicatorValue, _Mapping]]] = ..., reps: _Optional[_Iterable[_Union[RepBoard, _Mapping]]] = ..., incomplete_customers: _Optional[_Iterable[_Union[CustomerGaps, _Mapping]]] = ..., watermark: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., too_late: _Optional[_Iterable[_Union[LateEvent, _Mapping]]] = ...) -> None: ...

class RepBoard(_message.Message):
    __slots__ = ("rep_id", "indicators", "state")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    indicators: _containers.RepeatedCompositeFieldContainer[IndicatorValue]
    state: _events_pb2.HealthState
    def __init__(self, rep_id: _Optional[str] = ..., indicators: _Optional[_Iterable[_Union[IndicatorValue, _Mapping]]] = ..., state: _Optional[_Union[_events_pb2.HealthState, str]] = ...) -> None: ...

class IndicatorValue(_message.Message):
    __slots__ = ("indicator", "scope", "window", "value", "state", "threshold", "details", "rows")
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    indicator: _events_pb2.Indicator
    scope: str
    window: str
    value: float
    state: _events_pb2.HealthState
    threshold: float
    details: _struct_pb2.Struct
    rows: _containers.RepeatedCompositeFieldContainer[DrillDownRow]
    def __init__(self, indicator: _Optional[_Union[_events_pb2.Indicator, str]] = ..., scope: _Optional[str] = ..., window: _Optional[str] = ..., value: _Optional[float] = ..., state: _Optional[_Union[_events_pb2.HealthState, str]] = ..., threshold: _Optional[float] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., rows: _Optional[_Iterable[_Union[DrillDownRow, _Mapping]]] = ...) -> None: ...

class DrillDownRow(_message.Message):
    __slots__ = ("subject", "detail", "event_ids")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    subject: str
    detail: str
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subject: _Optional[str] = ..., detail: _Optional[str] = ..., event_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CustomerGaps(_message.Message):
    __slots__ = ("customer_id", "missing_fields")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    missing_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., missing_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class LateEvent(_message.Message):
    __slots__ = ("event_id", "at", "window", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    at: _timestamp_pb2.Timestamp
    window: str
    reason: str
    def __init__(self, event_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetDrillDownRequest(_message.Message):
    __slots__ = ("indicator", "rep_id", "day")
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    indicator: _events_pb2.Indicator
    rep_id: str
    day: str
    def __init__(self, indicator: _Optional[_Union[_events_pb2.Indicator, str]] = ..., rep_id: _Optional[str] = ..., day: _Optional[str] = ...) -> None: ...

class GetDrillDownResponse(_message.Message):
    __slots__ = ("value", "events")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    value: IndicatorValue
    events: _containers.RepeatedCompositeFieldContainer[SourceEvent]
    def __init__(self, value: _Optional[_Union[IndicatorValue, _Mapping]] = ..., events: _Optional[_Iterable[_Union[SourceEvent, _Mapping]]] = ...) -> None: ...

class SourceEvent(_message.Message):
    __slots__ = ("event_id", "at", "kind", "rep_id", "topic", "partition", "offset", "payload")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    at: _timestamp_pb2.Timestamp
    kind: str
    rep_id: str
    topic: str
    partition: int
    offset: int
    payload: _struct_pb2.Struct
    def __init__(self, event_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., rep_id: _Optional[str] = ..., topic: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VisitEnd(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIT_END_UNSPECIFIED: _ClassVar[VisitEnd]
    VISIT_END_CHECK_OUT: _ClassVar[VisitEnd]
    VISIT_END_NEXT_ACTIVITY: _ClassVar[VisitEnd]
    VISIT_END_NONE: _ClassVar[VisitEnd]

class Indicator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDICATOR_UNSPECIFIED: _ClassVar[Indicator]
    INDICATOR_LEAD_RESPONSE: _ClassVar[Indicator]
    INDICATOR_STAGE_PROGRESSION_COMPLETENESS: _ClassVar[Indicator]
    INDICATOR_CUSTOMER_DATA_COMPLETENESS: _ClassVar[Indicator]
    INDICATOR_FORECAST_CREDIBILITY: _ClassVar[Indicator]
    INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY: _ClassVar[Indicator]

class HealthState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_STATE_UNSPECIFIED: _ClassVar[HealthState]
    HEALTH_STATE_NO_DATA: _ClassVar[HealthState]
    HEALTH_STATE_GREEN: _ClassVar[HealthState]
    HEALTH_STATE_YELLOW: _ClassVar[HealthState]
    HEALTH_STATE_RED: _ClassVar[HealthState]
VISIT_END_UNSPECIFIED: VisitEnd
VISIT_END_CHECK_OUT: VisitEnd
VISIT_END_NEXT_ACTIVITY: VisitEnd
VISIT_END_NONE: VisitEnd
INDICATOR_UNSPECIFIED: Indicator
INDICATOR_LEAD_RESPONSE: Indicator
INDICATOR_STAGE_PROGRESSION_COMPLETENESS: Indicator
INDICATOR_CUSTOMER_DATA_COMPLETENESS: Indicator
INDICATOR_FORECAST_CREDIBILITY: Indicator
INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY: Indicator
HEALTH_STATE_UNSPECIFIED: HealthState
HEALTH_STATE_NO_DATA: HealthState
HEALTH_STATE_GREEN: HealthState
HEALTH_STATE_YELLOW: HealthState
HEALTH_STATE_RED: HealthState

class VisitVerdict(_message.Message):
    __slots__ = ("tenant_id", "visit_id", "rep_id", "customer_id", "opportunity_id", "started_at", "ended_at", "ended_by", "on_site_seconds", "distance_m", "effective", "decided", "reasons", "evidence_event_ids", "revision", "cause_event_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_BY_FIELD_NUMBER: _ClassVar[int]
    ON_SITE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_M_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CAUSE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    visit_id: str
    rep_id: str
    customer_id: str
    opportunity_id: str
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    ended_by: VisitEnd
    on_site_seconds: int
    distance_m: float
    effective: bool
    decided: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    evidence_event_ids: _containers.RepeatedScalarFieldContainer[str]
    revision: int
    cause_event_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_by: _Optional[_Union[VisitEnd, str]] = ..., on_site_seconds: _Optional[int] = ..., distance_m: _Optional[float] = ..., effective: _Optional[bool] = ..., decided: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ..., evidence_event_ids: _Optional[_Iterable[str]] = ..., revision: _Optional[int] = ..., cause_event_id: _Optional[str] = ...) -> None: ...

class IndicatorChanged(_message.Message):
    __slots__ = ("tenant_id", "indicator", "scope", "window", "value", "state", "previous_state", "threshold", "p50_minutes", "p90_minutes", "missing_fields", "as_of", "cause_event_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    P50_MINUTES_FIELD_NUMBER: _ClassVar[int]
    P90_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CAUSE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    indicator: Indicator
    scope: str
    window: str
    value: float
    state: HealthState
    previous_state: HealthState
    threshold: float
    p50_minutes: float
    p90_minutes: float
    missing_fields: _containers.RepeatedScalarFieldContainer[str]
    as_of: _timestamp_pb2.Timestamp
    cause_event_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., indicator: _Optional[_Union[Indicator, str]] = ..., scope: _Optional[str] = ..., window: _Optional[str] = ..., value: _Optional[float] = ..., state: _Optional[_Union[HealthState, str]] = ..., previous_state: _Optional[_Union[HealthState, str]] = ..., threshold: _Optional[float] = ..., p50_minutes: _Optional[float] = ..., p90_minutes: _Optional[float] = ..., missing_fields: _Optional[_Iterable[str]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause_event_id: _Optional[str] = ...) -> None: ...

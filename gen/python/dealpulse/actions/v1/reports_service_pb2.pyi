from dealpulse.actions.v1 import reporting_events_pb2 as _reporting_events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_FORMAT_UNSPECIFIED: _ClassVar[ReportFormat]
    REPORT_FORMAT_JSON: _ClassVar[ReportFormat]
    REPORT_FORMAT_CSV: _ClassVar[ReportFormat]
    REPORT_FORMAT_XLSX: _ClassVar[ReportFormat]
REPORT_FORMAT_UNSPECIFIED: ReportFormat
REPORT_FORMAT_JSON: ReportFormat
REPORT_FORMAT_CSV: ReportFormat
REPORT_FORMAT_XLSX: ReportFormat

class GetMustDoRequest(_message.Message):
    __slots__ = ("rep_id", "day")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    day: str
    def __init__(self, rep_id: _Optional[str] = ..., day: _Optional[str] = ...) -> None: ...

class GetMustDoResponse(_message.Message):
    __slots__ = ("list",)
    LIST_FIELD_NUMBER: _ClassVar[int]
    list: _reporting_events_pb2.MustDoList
    def __init__(self, list: _Optional[_Union[_reporting_events_pb2.MustDoList, _Mapping]] = ...) -> None: ...

class GetComplianceReportRequest(_message.Message):
    __slots__ = ("week", "format", "team_id")
    WEEK_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    week: str
    format: ReportFormat
    team_id: str
    def __init__(self, week: _Optional[str] = ..., format: _Optional[_Union[ReportFormat, str]] = ..., team_id: _Optional[str] = ...) -> None: ...

class GetComplianceReportResponse(_message.Message):
    __slots__ = ("content_type", "filename", "content", "week")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    filename: str
    content: bytes
    week: str
    def __init__(self, content_type: _Optional[str] = ..., filename: _Optional[str] = ..., content: _Optional[bytes] = ..., week: _Optional[str] = ...) -> None: ...

class ListProcessScoresRequest(_message.Message):
    __slots__ = ("week", "team_id")
    WEEK_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    week: str
    team_id: str
    def __init__(self, week: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class ProcessScore(_message.Message):
    __slots__ = ("rep_id", "team_id", "submitted", "submitted_valid", "quality_percent", "completion_percent", "score", "quality_weight_percent", "explanation")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_VALID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_WEIGHT_PERCENT_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team_id: str
    submitted: int
    submitted_valid: int
    quality_percent: float
    completion_percent: float
    score: float
    quality_weight_percent: float
    explanation: str
    def __init__(self, rep_id: _Optional[str] = ..., team_id: _Optional[str] = ..., submitted: _Optional[int] = ..., submitted_valid: _Optional[int] = ..., quality_percent: _Optional[float] = ..., completion_percent: _Optional[float] = ..., score: _Optional[float] = ..., quality_weight_percent: _Optional[float] = ..., explanation: _Optional[str] = ...) -> None: ...

class ListProcessScoresResponse(_message.Message):
    __slots__ = ("week", "scores")
    WEEK_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    week: str
    scores: _containers.RepeatedCompositeFieldContainer[ProcessScore]
    def __init__(self, week: _Optional[str] = ..., scores: _Optional[_Iterable[_Union[ProcessScore, _Mapping]]] = ...) -> None: ...

class ListFollowUpMetricsRequest(_message.Message):
    __slots__ = ("week",)
    WEEK_FIELD_NUMBER: _ClassVar[int]
    week: str
    def __init__(self, week: _Optional[str] = ...) -> None: ...

class ListFollowUpMetricsResponse(_message.Message):
    __slots__ = ("metrics",)
    METRICS_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedCompositeFieldContainer[_reporting_events_pb2.FollowUpMetrics]
    def __init__(self, metrics: _Optional[_Iterable[_Union[_reporting_events_pb2.FollowUpMetrics, _Mapping]]] = ...) -> None: ...

class NotificationRoute(_message.Message):
    __slots__ = ("team_id", "wecom_webhook_url", "dingtalk_webhook_url", "dingtalk_secret", "email_recipients")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    WECOM_WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_SECRET_FIELD_NUMBER: _ClassVar[int]
    EMAIL_RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    wecom_webhook_url: str
    dingtalk_webhook_url: str
    dingtalk_secret: str
    email_recipients: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, team_id: _Optional[str] = ..., wecom_webhook_url: _Optional[str] = ..., dingtalk_webhook_url: _Optional[str] = ..., dingtalk_secret: _Optional[str] = ..., email_recipients: _Optional[_Iterable[str]] = ...) -> None: ...

class SetNotificationRouteRequest(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: NotificationRoute
    def __init__(self, route: _Optional[_Union[NotificationRoute, _Mapping]] = ...) -> None: ...

class SetNotificationRouteResponse(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: NotificationRoute
    def __init__(self, route: _Optional[_Union[NotificationRoute, _Mapping]] = ...) -> None: ...

class GetNotificationRouteRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class GetNotificationRouteResponse(_message.Message):
    __slots__ = ("route", "dingtalk_signed")
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_SIGNED_FIELD_NUMBER: _ClassVar[int]
    route: NotificationRoute
    dingtalk_signed: bool
    def __init__(self, route: _Optional[_Union[NotificationRoute, _Mapping]] = ..., dingtalk_signed: _Optional[bool] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MustDoList(_message.Message):
    __slots__ = ("tenant_id", "list_id", "rep_id", "manager_id", "day", "generated_at", "tasks")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    LIST_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    list_id: str
    rep_id: str
    manager_id: str
    day: str
    generated_at: _timestamp_pb2.Timestamp
    tasks: _containers.RepeatedCompositeFieldContainer[MustDoTask]
    def __init__(self, tenant_id: _Optional[str] = ..., list_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., manager_id: _Optional[str] = ..., day: _Optional[str] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[MustDoTask, _Mapping]]] = ...) -> None: ...

class MustDoTask(_message.Message):
    __slots__ = ("task_id", "rank", "opportunity_id", "opportunity_name", "stage", "action_id", "action_name_en", "action_name_zh", "requirement", "due_at", "amount_cents", "currency", "attachment_template", "score", "factors", "explanation")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_EN_FIELD_NUMBER: _ClassVar[int]
    ACTION_NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    rank: int
    opportunity_id: str
    opportunity_name: str
    stage: str
    action_id: str
    action_name_en: str
    action_name_zh: str
    requirement: str
    due_at: _timestamp_pb2.Timestamp
    amount_cents: int
    currency: str
    attachment_template: AttachmentTemplate
    score: float
    factors: _containers.RepeatedCompositeFieldContainer[RankingFactor]
    explanation: str
    def __init__(self, task_id: _Optional[str] = ..., rank: _Optional[int] = ..., opportunity_id: _Optional[str] = ..., opportunity_name: _Optional[str] = ..., stage: _Optional[str] = ..., action_id: _Optional[str] = ..., action_name_en: _Optional[str] = ..., action_name_zh: _Optional[str] = ..., requirement: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ..., attachment_template: _Optional[_Union[AttachmentTemplate, _Mapping]] = ..., score: _Optional[float] = ..., factors: _Optional[_Iterable[_Union[RankingFactor, _Mapping]]] = ..., explanation: _Optional[str] = ...) -> None: ...

class AttachmentTemplate(_message.Message):
    __slots__ = ("file", "description_en", "description_zh")
    FILE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_EN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_ZH_FIELD_NUMBER: _ClassVar[int]
    file: str
    description_en: str
    description_zh: str
    def __init__(self, file: _Optional[str] = ..., description_en: _Optional[str] = ..., description_zh: _Optional[str] = ...) -> None: ...

class RankingFactor(_message.Message):
    __slots__ = ("name", "value", "weight", "points", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    weight: float
    points: float
    reason: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ..., weight: _Optional[float] = ..., points: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class FollowUpMetrics(_message.Message):
    __slots__ = ("tenant_id", "team_id", "week", "assigned", "advanced", "advanced_first_week", "average_cycle_days", "first_week_conversion", "final", "computed_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ADVANCED_FIELD_NUMBER: _ClassVar[int]
    ADVANCED_FIRST_WEEK_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_CYCLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    FIRST_WEEK_CONVERSION_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    team_id: str
    week: str
    assigned: int
    advanced: int
    advanced_first_week: int
    average_cycle_days: float
    first_week_conversion: float
    final: bool
    computed_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., team_id: _Optional[str] = ..., week: _Optional[str] = ..., assigned: _Optional[int] = ..., advanced: _Optional[int] = ..., advanced_first_week: _Optional[int] = ..., average_cycle_days: _Optional[float] = ..., first_week_conversion: _Optional[float] = ..., final: _Optional[bool] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

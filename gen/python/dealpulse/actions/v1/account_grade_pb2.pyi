import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerGradeChanged(_message.Message):
    __slots__ = ("tenant_id", "account_id", "from_grade", "to_grade", "changed_at", "approval_request_id", "changed_by", "approved_by", "account_name", "industry", "owner_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_GRADE_FIELD_NUMBER: _ClassVar[int]
    TO_GRADE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    account_id: str
    from_grade: str
    to_grade: str
    changed_at: _timestamp_pb2.Timestamp
    approval_request_id: str
    changed_by: str
    approved_by: _containers.RepeatedScalarFieldContainer[str]
    account_name: str
    industry: str
    owner_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., account_id: _Optional[str] = ..., from_grade: _Optional[str] = ..., to_grade: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., approval_request_id: _Optional[str] = ..., changed_by: _Optional[str] = ..., approved_by: _Optional[_Iterable[str]] = ..., account_name: _Optional[str] = ..., industry: _Optional[str] = ..., owner_id: _Optional[str] = ...) -> None: ...

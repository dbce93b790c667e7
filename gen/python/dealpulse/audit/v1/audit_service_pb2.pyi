from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckRequest(_message.Message):
    __slots__ = ("entity_type", "entity_id", "fields", "record_state")
    class RecordStateEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StateValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StateValue, _Mapping]] = ...) -> None: ...
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    RECORD_STATE_FIELD_NUMBER: _ClassVar[int]
    entity_type: str
    entity_id: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    record_state: _containers.MessageMap[str, StateValue]
    def __init__(self, entity_type: _Optional[str] = ..., entity_id: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., record_state: _Optional[_Mapping[str, StateValue]] = ...) -> None: ...

class StateValue(_message.Message):
    __slots__ = ("string_value", "int_value", "bool_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    bool_value: bool
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("allowed", "decisions", "tenant_id", "actor_id")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    decisions: _containers.RepeatedCompositeFieldContainer[FieldDecision]
    tenant_id: str
    actor_id: str
    def __init__(self, allowed: _Optional[bool] = ..., decisions: _Optional[_Iterable[_Union[FieldDecision, _Mapping]]] = ..., tenant_id: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class FieldDecision(_message.Message):
    __slots__ = ("field", "allowed", "rule_id", "reason", "policy_id", "policy_version", "approval_workflow")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    field: str
    allowed: bool
    rule_id: str
    reason: str
    policy_id: str
    policy_version: int
    approval_workflow: str
    def __init__(self, field: _Optional[str] = ..., allowed: _Optional[bool] = ..., rule_id: _Optional[str] = ..., reason: _Optional[str] = ..., policy_id: _Optional[str] = ..., policy_version: _Optional[int] = ..., approval_workflow: _Optional[str] = ...) -> None: ...

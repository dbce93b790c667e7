import datetime

from dealpulse.actions.v1 import events_pb2 as _events_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Account(_message.Message):
    __slots__ = ("account_id", "name", "industry", "owner_id", "created_at", "address", "latitude", "longitude", "contact_name", "contact_phone", "contact_email", "contact_title", "decision_maker", "grade", "marketing_contact", "customer_won", "won_opportunity_ids", "grade_approval_request_id", "version", "updated_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    CONTACT_TITLE_FIELD_NUMBER: _ClassVar[int]
    DECISION_MAKER_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    MARKETING_CONTACT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_WON_FIELD_NUMBER: _ClassVar[int]
    WON_OPPORTUNITY_IDS_FIELD_NUMBER: _ClassVar[int]
    GRADE_APPROVAL_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    name: str
    industry: str
    owner_id: str
    created_at: _timestamp_pb2.Timestamp
    address: str
    latitude: float
    longitude: float
    contact_name: str
    contact_phone: str
    contact_email: str
    contact_title: str
    decision_maker: str
    grade: str
    marketing_contact: MarketingContact
    customer_won: bool
    won_opportunity_ids: _containers.RepeatedScalarFieldContainer[str]
    grade_approval_request_id: str
    version: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., name: _Optional[str] = ..., industry: _Optional[str] = ..., owner_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., address: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., contact_name: _Optional[str] = ..., contact_phone: _Optional[str] = ..., contact_email: _Optional[str] = ..., contact_title: _Optional[str] = ..., decision_maker: _Optional[str] = ..., grade: _Optional[str] = ..., marketing_contact: _Optional[_Union[MarketingContact, _Mapping]] = ..., customer_won: _Optional[bool] = ..., won_opportunity_ids: _Optional[_Iterable[str]] = ..., grade_approval_request_id: _Optional[str] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MarketingContact(_message.Message):
    __slots__ = ("marketing_contact_id", "display_name", "email", "wecom_webhook_url", "dingtalk_webhook_url", "dingtalk_secret", "mention_id", "dingtalk_signed")
    MARKETING_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    WECOM_WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_SECRET_FIELD_NUMBER: _ClassVar[int]
    MENTION_ID_FIELD_NUMBER: _ClassVar[int]
    DINGTALK_SIGNED_FIELD_NUMBER: _ClassVar[int]
    marketing_contact_id: str
    display_name: str
    email: str
    wecom_webhook_url: str
    dingtalk_webhook_url: str
    dingtalk_secret: str
    mention_id: str
    dingtalk_signed: bool
    def __init__(self, marketing_contact_id: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., wecom_webhook_url: _Optional[str] = ..., dingtalk_webhook_url: _Optional[str] = ..., dingtalk_secret: _Optional[str] = ..., mention_id: _Optional[str] = ..., dingtalk_signed: _Optional[bool] = ...) -> None: ...

class UpdateAccountRequest(_message.Message):
    __slots__ = ("account_id", "account", "update_mask")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account: Account
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, account_id: _Optional[str] = ..., account: _Optional[_Union[Account, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class SetMarketingContactRequest(_message.Message):
    __slots__ = ("account_id", "marketing_contact")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MARKETING_CONTACT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    marketing_contact: MarketingContact
    def __init__(self, account_id: _Optional[str] = ..., marketing_contact: _Optional[_Union[MarketingContact, _Mapping]] = ...) -> None: ...

class SetMarketingContactResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class RequestGradeChangeRequest(_message.Message):
    __slots__ = ("account_id", "grade", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    grade: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., grade: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GradeChangeRequest(_message.Message):
    __slots__ = ("request_id", "workflow", "account_id", "from_grade", "to_grade", "submitted_by", "status")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_GRADE_FIELD_NUMBER: _ClassVar[int]
    TO_GRADE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    workflow: str
    account_id: str
    from_grade: str
    to_grade: str
    submitted_by: str
    status: str
    def __init__(self, request_id: _Optional[str] = ..., workflow: _Optional[str] = ..., account_id: _Optional[str] = ..., from_grade: _Optional[str] = ..., to_grade: _Optional[str] = ..., submitted_by: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class RequestGradeChangeResponse(_message.Message):
    __slots__ = ("request", "account")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    request: GradeChangeRequest
    account: Account
    def __init__(self, request: _Optional[_Union[GradeChangeRequest, _Mapping]] = ..., account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

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

class GetTenantPolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetTenantPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _events_pb2.TenantPolicy
    def __init__(self, policy: _Optional[_Union[_events_pb2.TenantPolicy, _Mapping]] = ...) -> None: ...

class UpdateTenantPolicyRequest(_message.Message):
    __slots__ = ("policy", "update_mask")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    policy: _events_pb2.TenantPolicy
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, policy: _Optional[_Union[_events_pb2.TenantPolicy, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateTenantPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _events_pb2.TenantPolicy
    def __init__(self, policy: _Optional[_Union[_events_pb2.TenantPolicy, _Mapping]] = ...) -> None: ...

class Action(_message.Message):
    __slots__ = ("action_id", "kind", "valid", "invalid_reasons", "occurred_at", "actor_id", "template_action_id", "stage")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    INVALID_REASONS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    kind: _events_pb2.ActionKind
    valid: bool
    invalid_reasons: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    actor_id: str
    template_action_id: str
    stage: str
    def __init__(self, action_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.ActionKind, str]] = ..., valid: _Optional[bool] = ..., invalid_reasons: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ..., template_action_id: _Optional[str] = ..., stage: _Optional[str] = ...) -> None: ...

class Opportunity(_message.Message):
    __slots__ = ("opportunity_id", "account_id", "name", "owner_id", "stage", "amount_cents", "currency", "opened_at", "stage_entered_at", "last_valid_action_at", "stall_deadline", "actions", "version", "open_alert_id", "template_id", "template_version")
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
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
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
    template_id: str
    template_version: int
    def __init__(self, opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., name: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stage_entered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_valid_action_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stall_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[Action, _Mapping]]] = ..., version: _Optional[int] = ..., open_alert_id: _Optional[str] = ..., template_id: _Optional[str] = ..., template_version: _Optional[int] = ...) -> None: ...

class OpenOpportunityRequest(_message.Message):
    __slots__ = ("opportunity_id", "account_id", "name", "owner_id", "stage", "amount_cents", "currency", "template_id")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    template_id: str
    def __init__(self, opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., name: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., amount_cents: _Optional[int] = ..., currency: _Optional[str] = ..., template_id: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("opportunity_id", "to_stage", "override_reason")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_REASON_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    to_stage: str
    override_reason: str
    def __init__(self, opportunity_id: _Optional[str] = ..., to_stage: _Optional[str] = ..., override_reason: _Optional[str] = ...) -> None: ...

class ChangeStageResponse(_message.Message):
    __slots__ = ("opportunity", "override_request_id")
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity: Opportunity
    override_request_id: str
    def __init__(self, opportunity: _Optional[_Union[Opportunity, _Mapping]] = ..., override_request_id: _Optional[str] = ...) -> None: ...

class RecordActionRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_id", "kind", "call_duration_seconds", "email_message_id", "checkin_id", "note", "occurred_at", "template_action_id", "submission")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CALL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKIN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_id: str
    kind: _events_pb2.ActionKind
    call_duration_seconds: int
    email_message_id: str
    checkin_id: str
    note: str
    occurred_at: _timestamp_pb2.Timestamp
    template_action_id: str
    submission: SubmissionInput
    def __init__(self, opportunity_id: _Optional[str] = ..., action_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.ActionKind, str]] = ..., call_duration_seconds: _Optional[int] = ..., email_message_id: _Optional[str] = ..., checkin_id: _Optional[str] = ..., note: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., template_action_id: _Optional[str] = ..., submission: _Optional[_Union[SubmissionInput, _Mapping]] = ...) -> None: ...

class SubmissionInput(_message.Message):
    __slots__ = ("form", "items", "attachments", "activity_ids", "approval_ids")
    class ItemsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _events_pb2.ItemList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_events_pb2.ItemList, _Mapping]] = ...) -> None: ...
    FORM_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_IDS_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_IDS_FIELD_NUMBER: _ClassVar[int]
    form: _struct_pb2.Struct
    items: _containers.MessageMap[str, _events_pb2.ItemList]
    attachments: _containers.RepeatedCompositeFieldContainer[_events_pb2.SubmittedAttachment]
    activity_ids: _containers.RepeatedScalarFieldContainer[str]
    approval_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, form: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., items: _Optional[_Mapping[str, _events_pb2.ItemList]] = ..., attachments: _Optional[_Iterable[_Union[_events_pb2.SubmittedAttachment, _Mapping]]] = ..., activity_ids: _Optional[_Iterable[str]] = ..., approval_ids: _Optional[_Iterable[str]] = ...) -> None: ...

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

class HandleAlertRequest(_message.Message):
    __slots__ = ("opportunity_id", "alert_id", "note")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    alert_id: str
    note: str
    def __init__(self, opportunity_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class HandleAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: _events_pb2.AlertRaised
    def __init__(self, alert: _Optional[_Union[_events_pb2.AlertRaised, _Mapping]] = ...) -> None: ...

class SnoozeAlertRequest(_message.Message):
    __slots__ = ("opportunity_id", "alert_id", "reason", "snooze_seconds")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SNOOZE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    alert_id: str
    reason: str
    snooze_seconds: int
    def __init__(self, opportunity_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., reason: _Optional[str] = ..., snooze_seconds: _Optional[int] = ...) -> None: ...

class SnoozeAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: _events_pb2.AlertRaised
    def __init__(self, alert: _Optional[_Union[_events_pb2.AlertRaised, _Mapping]] = ...) -> None: ...

class TemplateSummary(_message.Message):
    __slots__ = ("template_id", "version", "name_zh", "name_en", "industry", "owner", "versions")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: int
    name_zh: str
    name_en: str
    industry: str
    owner: str
    versions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[int] = ..., name_zh: _Optional[str] = ..., name_en: _Optional[str] = ..., industry: _Optional[str] = ..., owner: _Optional[str] = ..., versions: _Optional[_Iterable[int]] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[TemplateSummary]
    def __init__(self, templates: _Optional[_Iterable[_Union[TemplateSummary, _Mapping]]] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("template_id", "version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: int
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetTemplateResponse(_message.Message):
    __slots__ = ("summary", "document")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    summary: TemplateSummary
    document: _struct_pb2.Struct
    def __init__(self, summary: _Optional[_Union[TemplateSummary, _Mapping]] = ..., document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CopyTemplateRequest(_message.Message):
    __slots__ = ("source_template_id", "source_version", "template_id")
    SOURCE_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    source_template_id: str
    source_version: int
    template_id: str
    def __init__(self, source_template_id: _Optional[str] = ..., source_version: _Optional[int] = ..., template_id: _Optional[str] = ...) -> None: ...

class CopyTemplateResponse(_message.Message):
    __slots__ = ("summary", "document")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    summary: TemplateSummary
    document: _struct_pb2.Struct
    def __init__(self, summary: _Optional[_Union[TemplateSummary, _Mapping]] = ..., document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PublishTemplateVersionRequest(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: _struct_pb2.Struct
    def __init__(self, document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PublishTemplateVersionResponse(_message.Message):
    __slots__ = ("summary", "document")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    summary: TemplateSummary
    document: _struct_pb2.Struct
    def __init__(self, summary: _Optional[_Union[TemplateSummary, _Mapping]] = ..., document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StageDwell(_message.Message):
    __slots__ = ("opportunity_id", "owner_id", "stage", "stage_entered_at", "dwell_hours", "benchmark_hours", "ratio", "flagged")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_ENTERED_AT_FIELD_NUMBER: _ClassVar[int]
    DWELL_HOURS_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_HOURS_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    owner_id: str
    stage: str
    stage_entered_at: _timestamp_pb2.Timestamp
    dwell_hours: float
    benchmark_hours: float
    ratio: float
    flagged: bool
    def __init__(self, opportunity_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., stage: _Optional[str] = ..., stage_entered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dwell_hours: _Optional[float] = ..., benchmark_hours: _Optional[float] = ..., ratio: _Optional[float] = ..., flagged: _Optional[bool] = ...) -> None: ...

class GetStageDwellRequest(_message.Message):
    __slots__ = ("opportunity_id",)
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    def __init__(self, opportunity_id: _Optional[str] = ...) -> None: ...

class GetStageDwellResponse(_message.Message):
    __slots__ = ("dwell", "factor")
    DWELL_FIELD_NUMBER: _ClassVar[int]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    dwell: StageDwell
    factor: float
    def __init__(self, dwell: _Optional[_Union[StageDwell, _Mapping]] = ..., factor: _Optional[float] = ...) -> None: ...

class TeamDwell(_message.Message):
    __slots__ = ("manager_id", "open_opportunities", "mean_ratio", "flagged")
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    MEAN_RATIO_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    manager_id: str
    open_opportunities: int
    mean_ratio: float
    flagged: bool
    def __init__(self, manager_id: _Optional[str] = ..., open_opportunities: _Optional[int] = ..., mean_ratio: _Optional[float] = ..., flagged: _Optional[bool] = ...) -> None: ...

class ListDwellFlagsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDwellFlagsResponse(_message.Message):
    __slots__ = ("factor", "opportunities", "teams")
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    factor: float
    opportunities: _containers.RepeatedCompositeFieldContainer[StageDwell]
    teams: _containers.RepeatedCompositeFieldContainer[TeamDwell]
    def __init__(self, factor: _Optional[float] = ..., opportunities: _Optional[_Iterable[_Union[StageDwell, _Mapping]]] = ..., teams: _Optional[_Iterable[_Union[TeamDwell, _Mapping]]] = ...) -> None: ...

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

"""Request bodies of the REST API. Strict: no type coercion ("12" is not 12), unknown
fields are rejected, so a client's typo is an error rather than a silently dropped
field. The services validate again; these checks only turn away what can never pass.
Nothing here carries a tenant: the tenant always comes from the token.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _require_rfc3339(value: object) -> object:
    if not (isinstance(value, str) and _RFC3339.match(value)):
        raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2024-05-01T10:00:00+08:00")
    return value


# JSON has no datetime type, so strict mode would refuse every value: parse the string,
# but only RFC 3339 (pydantic alone would also take epoch numbers of ambiguous unit).
Rfc3339Timestamp = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_require_rfc3339)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CreateAccountBody(RequestBody):
    account_id: Identifier
    name: Text
    industry: Text
    owner_id: Identifier | None = Field(None, description="Defaults to the caller.")


class UpdateAccountBody(RequestBody):
    """The account fields to change; those left out keep their values. Once the customer
    is won a rep may change the contact fields only, and nobody the grade (request it)."""

    name: Text | None = None
    industry: Text | None = None
    owner_id: Identifier | None = Field(None, description="Reassigning is a manager's decision.")
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False, description="Set with longitude.")
    longitude: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False, description="Set with latitude.")
    contact_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    contact_phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    contact_email: Annotated[str, StringConstraints(max_length=200)] | None = None
    contact_title: Annotated[str, StringConstraints(max_length=100)] | None = None
    decision_maker: Annotated[str, StringConstraints(max_length=200)] | None = None
    grade: Literal["A", "B", "C", "D"] | None = Field(
        None, description="Direct edits only before the customer is won; afterwards use grade-change-requests."
    )


class MarketingContactBody(RequestBody):
    """Who in marketing is told when the customer's grade changes, and on which channels
    (at least one of email, wecom_webhook_url, dingtalk_webhook_url)."""

    marketing_contact_id: Identifier
    display_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    wecom_webhook_url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    dingtalk_webhook_url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    dingtalk_secret: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Write-only: the account shows only `dingtalk_signed`."
    )
    mention_id: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="WeCom user id or DingTalk mobile to @-mention."
    )


class GradeChangeBody(RequestBody):
    grade: Literal["A", "B", "C", "D"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Why the grade should change (the approvers read it)."
    )


class RegisterRepBody(RequestBody):
    display_name: Text
    manager_id: Identifier | None = Field(None, description="Who this rep's stalled deals escalate to.")


class StallPolicyBody(RequestBody):
    threshold_hours: PositiveFinite = Field(
        description="How long an opportunity may sit in a stage without a valid action."
    )


Seconds = Annotated[int, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class TenantPolicyPatch(RequestBody):
    """The settings to change; those left out keep their values. The service checks
    the result as a whole (e.g. yellow must stay below green)."""

    stall_threshold_seconds: Seconds | None = Field(None, description="Default 172800 (48 h).")
    stage_stall_threshold_seconds: dict[Identifier, Seconds] | None = Field(
        None, description="Stage id -> its own threshold; replaces the whole map ({} clears it)."
    )
    escalate_to_manager_after_seconds: Seconds | None = Field(None, description="Default 0: at once.")
    escalate_to_director_after_seconds: Seconds | None = Field(None, description="Default 86400 (24 h).")
    manager_followup_seconds: Seconds | None = Field(None, description="Default 86400 (24 h).")
    lead_response_limit_seconds: Seconds | None = Field(None, description="Default 900 (15 min).")
    duplicate_touch_window_seconds: Seconds | None = Field(None, description="Default 604800 (7 days).")
    duplicate_touch_min_reps: int | None = Field(None, ge=0, description="Default 2.")
    dwell_factor: float | None = Field(None, ge=0, allow_inf_nan=False, description="Default 2.3.")
    compliance_green_percent: Percent | None = Field(None, description="Default 85.")
    compliance_yellow_percent: Percent | None = Field(None, description="Default 70.")
    process_quality_weight_percent: Percent | None = Field(None, description="Default 40.")
    timezone: Text | None = Field(None, description="IANA time zone; default Asia/Shanghai.")
    must_do_local_time: LocalTime | None = Field(None, description="HH:MM; default 08:00.")
    weekly_report_weekday: (
        Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None
    ) = Field(None, description="Default monday.")
    weekly_report_local_time: LocalTime | None = Field(None, description="HH:MM; default 08:00.")
    min_call_duration_seconds: Seconds | None = Field(None, description="Default 60.")
    min_note_length: int | None = Field(None, ge=0, description="Default 20.")

    @model_validator(mode="after")
    def _names_a_setting(self) -> "TenantPolicyPatch":
        if not any(getattr(self, name) is not None for name in self.model_fields_set):
            raise ValueError("name at least one setting to change")
        return self


class OpenOpportunityBody(RequestBody):
    opportunity_id: Identifier
    account_id: Identifier
    name: Text
    owner_id: Identifier | None = Field(None, description="Defaults to the caller.")
    stage: Identifier | None = Field(None, description="Defaults to the pipeline's first stage.")
    amount_cents: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY or USD.")
    template_id: Identifier | None = Field(
        None, description="An industry template (GET /v1/templates); its newest version is pinned. Omitted: no gates."
    )


class ChangeStageBody(RequestBody):
    to_stage: Identifier
    override_reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = Field(
        None, description="Managers only: move past an unmet gate; recorded and sent for approval."
    )


class AttachmentBody(RequestBody):
    document_type: Identifier
    file_name: Text
    file_id: Identifier | None = None
    size_bytes: int | None = Field(None, ge=0)


class SubmissionBody(RequestBody):
    form: dict[str, Any] = Field(default_factory=dict, description="Form values by field id.")
    items: dict[Identifier, list[Annotated[str, StringConstraints(max_length=2000)]]] = Field(default_factory=dict)
    attachments: list[AttachmentBody] = Field(default_factory=list)
    activity_ids: list[Identifier] = Field(default_factory=list, description="Activities from the activity stream.")
    approval_ids: list[Identifier] = Field(default_factory=list)


class HandleAlertBody(RequestBody):
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class SnoozeAlertBody(RequestBody):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    snooze_hours: PositiveFinite


class CopyTemplateBody(RequestBody):
    source_version: int | None = Field(None, ge=1, description="Defaults to the newest.")
    template_id: Identifier | None = Field(None, description="Defaults to <tenant>.<source id>.")


class RecordActionBody(RequestBody):
    action_id: Identifier
    kind: Literal["call", "email", "visit", "note"] | None = Field(
        None, description="Required unless template_action_id is given."
    )
    template_action_id: Identifier | None = None
    submission: SubmissionBody | None = None
    call_duration_seconds: int | None = Field(None, ge=0)
    email_message_id: Identifier | None = None
    checkin_id: Identifier | None = None
    note: str | None = Field(None, max_length=4000)
    occurred_at: Rfc3339Timestamp | None = Field(None, description="Defaults to now; never in the future.")

    @model_validator(mode="after")
    def _kind_or_template_action(self) -> "RecordActionBody":
        if self.kind is None and self.template_action_id is None:
            raise ValueError("give kind (call, email, visit, note) or template_action_id")
        if self.submission is not None and self.template_action_id is None:
            raise ValueError("a submission belongs to a template action; give template_action_id")
        return self


class AdvanceClockBody(RequestBody):
    seconds: PositiveFinite

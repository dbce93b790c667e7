"""Translation between domain objects and protobuf messages (the wire and the topics)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from typing import Any

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from dealpulse.actions.v1 import actions_service_pb2 as api
from dealpulse.actions.v1 import events_pb2 as events
from services.actions.domain.errors import InvalidCommand
from services.actions.domain.evidence import ActionKind, Evidence, Verdict
from services.actions.domain.opportunity import AlertStatus, EscalationLevel, OpportunityState, RecordedAction
from services.actions.domain.templates import Submission
from services.actions.domain.policy import DEFAULT_POLICY, ProcessPolicy, parse_local_time

_KIND_TO_PROTO = {
    ActionKind.CALL: events.ACTION_KIND_CALL,
    ActionKind.EMAIL: events.ACTION_KIND_EMAIL,
    ActionKind.VISIT: events.ACTION_KIND_VISIT,
    ActionKind.NOTE: events.ACTION_KIND_NOTE,
}
_KIND_FROM_PROTO = {v: k for k, v in _KIND_TO_PROTO.items()}


def kind_from_proto(value: int) -> ActionKind:
    try:
        return _KIND_FROM_PROTO[value]
    except KeyError:
        raise InvalidCommand("kind", f"must be one of {', '.join(k.value for k in ActionKind)}") from None


def kind_to_proto(kind: ActionKind) -> int:
    return _KIND_TO_PROTO[kind]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def timestamp(moment: datetime | None) -> Timestamp | None:
    # Whole seconds from the epoch by integer arithmetic: exact, and several times
    # cheaper than Timestamp.FromDatetime on the stream worker's hot path.
    if moment is None:
        return None
    since = moment - _EPOCH
    return Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)


def moment(stamp: Timestamp) -> datetime:
    return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)


def action_recorded(action_id: str, kind: ActionKind, evidence: Evidence, verdict: Verdict) -> events.ActionRecorded:
    """The event of an action as submitted, with the verifier's verdict."""
    return events.ActionRecorded(
        action_id=action_id,
        kind=kind_to_proto(kind),
        call_duration_seconds=evidence.call_duration_seconds,
        email_message_id=evidence.email_message_id,
        checkin_id=evidence.checkin_id,
        note=evidence.note,
        valid=verdict.valid,
        invalid_reasons=list(verdict.reasons),
    )


def action_to_proto(action: RecordedAction) -> api.Action:
    return api.Action(
        action_id=action.action_id,
        kind=kind_to_proto(action.kind),
        valid=action.valid,
        invalid_reasons=list(action.invalid_reasons),
        occurred_at=timestamp(action.occurred_at),
        actor_id=action.actor_id,
        template_action_id=action.template_action_id,
        stage=action.stage,
    )


def opportunity_to_proto(state: OpportunityState, actions: list[RecordedAction]) -> api.Opportunity:
    return api.Opportunity(
        opportunity_id=state.opportunity_id,
        account_id=state.account_id,
        name=state.name,
        owner_id=state.owner_id,
        stage=state.stage,
        amount_cents=state.amount_cents,
        currency=state.currency,
        opened_at=timestamp(state.opened_at),
        stage_entered_at=timestamp(state.stage_entered_at),
        last_valid_action_at=timestamp(state.last_valid_action_at),
        stall_deadline=timestamp(state.stall_deadline),
        actions=[action_to_proto(a) for a in actions],
        version=state.version,
        open_alert_id=state.open_alert_id,
        template_id=state.template_id,
        template_version=state.template_version,
    )


# --- the tenant policy ------------------------------------------------------------------
# Proto field -> (domain attribute, proto value -> domain value, domain value -> proto value).
def _seconds(value: int) -> timedelta:
    return timedelta(seconds=value)


def _whole_seconds(value: timedelta) -> int:
    return int(value.total_seconds())


def _local_time_text(value: time) -> str:
    return value.strftime("%H:%M")


_POLICY_FIELDS: dict[str, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "stall_threshold_seconds": ("stall_threshold", _seconds, _whole_seconds),
    "stage_stall_threshold_seconds": (
        "stage_stall_thresholds",
        lambda m: {stage: timedelta(seconds=s) for stage, s in m.items()},
        lambda m: {stage: _whole_seconds(t) for stage, t in m.items()},
    ),
    "escalate_to_manager_after_seconds": ("escalate_to_manager_after", _seconds, _whole_seconds),
    "escalate_to_director_after_seconds": ("escalate_to_director_after", _seconds, _whole_seconds),
    "manager_followup_seconds": ("manager_followup_window", _seconds, _whole_seconds),
    "lead_response_limit_seconds": ("lead_response_limit", _seconds, _whole_seconds),
    "duplicate_touch_window_seconds": ("duplicate_touch_window", _seconds, _whole_seconds),
    "duplicate_touch_min_reps": ("duplicate_touch_min_reps", int, int),
    "dwell_factor": ("dwell_factor", float, float),
    "compliance_green_percent": ("compliance_green_percent", float, float),
    "compliance_yellow_percent": ("compliance_yellow_percent", float, float),
    "process_quality_weight_percent": ("process_quality_weight_percent", float, float),
    "timezone": ("timezone", str, str),
    "must_do_local_time": ("must_do_local_time", lambda v: parse_local_time(v, "must_do_local_time"), _local_time_text),
    "weekly_report_weekday": ("weekly_report_weekday", str, str),
    "weekly_report_local_time": (
        "weekly_report_local_time",
        lambda v: parse_local_time(v, "weekly_report_local_time"),
        _local_time_text,
    ),
    "min_call_duration_seconds": ("min_call_duration", _seconds, _whole_seconds),
    "min_note_length": ("min_note_length", int, int),
}
POLICY_SETTINGS = tuple(_POLICY_FIELDS)


def _is_set(message: events.TenantPolicy, name: str) -> bool:
    descriptor = message.DESCRIPTOR.fields_by_name[name]
    if descriptor.has_presence:
        return message.HasField(name)
    return bool(getattr(message, name))


def policy_to_proto(policy: ProcessPolicy) -> events.TenantPolicy:
    message = events.TenantPolicy()
    for name, (attribute, _, to_proto) in _POLICY_FIELDS.items():
        value = to_proto(getattr(policy, attribute))
        if isinstance(value, dict):
            getattr(message, name).update(value)
        else:
            setattr(message, name, value)
    return message


def policy_from_proto(message: events.TenantPolicy, base: ProcessPolicy = DEFAULT_POLICY) -> ProcessPolicy:
    """The policy a stored snapshot describes; settings it does not carry keep `base`'s."""
    changes = {
        attribute: from_proto(getattr(message, name))
        for name, (attribute, from_proto, _) in _POLICY_FIELDS.items()
        if _is_set(message, name)
    }
    return base.updated(**changes)


def policy_update(current: ProcessPolicy, message: events.TenantPolicy, paths: list[str]) -> ProcessPolicy:
    """`current` with the settings named in `paths` taken from `message`, as sent (a zero
    there is a zero, and is refused where zero is not allowed)."""
    if not paths:
        raise InvalidCommand("update_mask", f"name the settings to change, from: {', '.join(POLICY_SETTINGS)}")
    changes = {}
    for path in paths:
        if path not in _POLICY_FIELDS:
            raise InvalidCommand("update_mask", f"{path!r} is not a policy setting; settings are {', '.join(POLICY_SETTINGS)}")
        attribute, from_proto, _ = _POLICY_FIELDS[path]
        changes[attribute] = from_proto(getattr(message, path))
    return current.updated(**changes)


# --- template submissions ------------------------------------------------------------------
def submission_mapping(message: events.ActionSubmission, submitted_by: str) -> dict[str, Any]:
    """The submission as plain JSON data: what the domain's strict parser reads, what
    the projection stores for drill-down, and the same from the event on replay."""
    attachments = []
    for a in message.attachments:
        entry: dict[str, Any] = {"document_type": a.document_type, "file_name": a.file_name, "file_id": a.file_id}
        if a.HasField("size_bytes"):
            entry["size_bytes"] = a.size_bytes
        attachments.append(entry)
    return {
        "form": json_format.MessageToDict(message.form) if message.HasField("form") else {},
        "items": {name: list(entries.items) for name, entries in message.items.items()},
        "attachments": attachments,
        "activities": [
            {
                "kind": f.kind,
                "event_id": f.activity_id,
                "minutes": f.minutes,
                "effective": f.effective,
                "reply_message_id": f.reply_message_id,
            }
            for f in message.activities
        ],
        "approvals": [
            {"approval_id": f.approval_id, "approver_role": f.approver_role, "decision": f.decision, "approver_id": f.approver_id}
            for f in message.approvals
        ],
        "submitted_by": submitted_by,
    }


def submission_event(
    request: "api.SubmissionInput", activities: list[events.ActivityFact], approvals: list[events.ApprovalFact]
) -> events.ActionSubmission:
    submission = events.ActionSubmission(attachments=request.attachments, activities=activities, approvals=approvals)
    if request.HasField("form"):
        submission.form.CopyFrom(request.form)
    for name, entries in request.items.items():
        submission.items[name].items.extend(entries.items)
    return submission


def parse_submission(mapping: dict[str, Any]) -> Submission:
    return Submission.from_mapping(mapping)


# --- alerts ----------------------------------------------------------------------------------
LEVEL_TO_PROTO = {
    EscalationLevel.REP: events.ESCALATION_LEVEL_REP,
    EscalationLevel.MANAGER: events.ESCALATION_LEVEL_MANAGER,
    EscalationLevel.DIRECTOR: events.ESCALATION_LEVEL_DIRECTOR,
}
LEVEL_FROM_PROTO = {v: k for k, v in LEVEL_TO_PROTO.items()}
STATUS_TO_PROTO = {
    AlertStatus.OPEN: events.ALERT_STATUS_OPEN,
    AlertStatus.HANDLED: events.ALERT_STATUS_HANDLED,
    AlertStatus.SNOOZED: events.ALERT_STATUS_SNOOZED,
    AlertStatus.RESOLVED: events.ALERT_STATUS_RESOLVED,
}

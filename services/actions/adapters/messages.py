"""Translation between domain objects and protobuf messages (the wire and the topics)."""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from dealpulse.actions.v1 import actions_service_pb2 as api
from dealpulse.actions.v1 import events_pb2 as events
from services.actions.domain.errors import InvalidCommand
from services.actions.domain.evidence import ActionKind, Evidence, Verdict
from services.actions.domain.opportunity import OpportunityState, RecordedAction

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


def timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(timezone.utc))
    return stamp


def moment(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=timezone.utc)


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
    )

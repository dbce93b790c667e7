"""An opportunity's state and the silent-timeout (stall) breaker.

Pure functions from (state, fact) to (new state, effects). The stream adapter applies
facts in the order of the opportunity's topic partition and carries the effects out
(arm or disarm the stall deadline, raise an alert), so replaying the topic rebuilds the
same state and the same decisions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from services.actions.domain.errors import InvalidCommand, PreconditionFailed
from services.actions.domain.evidence import ActionKind, Evidence, Verdict
from services.actions.domain.pipeline import is_closed
from services.actions.domain.policy import ProcessPolicy

_ALERT_NAMESPACE = uuid.UUID("0b7e2f0c-52a4-4f53-9a57-2c1f6e4d8a10")


@dataclass(frozen=True)
class RecordedAction:
    action_id: str
    kind: ActionKind
    evidence: Evidence
    valid: bool
    invalid_reasons: tuple[str, ...]
    occurred_at: datetime
    actor_id: str
    # For an action of the opportunity's template: which one, the stage it was
    # submitted in (gates count only the current stage's) and the submission as sent.
    template_action_id: str = ""
    stage: str = ""
    submission: Mapping[str, Any] | None = None


class EscalationLevel(str, Enum):
    """Who must act on an unhandled stall alert: the rep, then their manager, then
    the manager's manager (the director)."""

    REP = "rep"
    MANAGER = "manager"
    DIRECTOR = "director"

    @property
    def next(self) -> "EscalationLevel | None":
        order = list(EscalationLevel)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class AlertStatus(str, Enum):
    OPEN = "open"
    HANDLED = "handled"
    SNOOZED = "snoozed"
    # A valid action or a stage change answered the alert.
    RESOLVED = "resolved"


@dataclass(frozen=True)
class OpportunityState:
    tenant_id: str
    opportunity_id: str
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    opened_at: datetime
    stage_entered_at: datetime
    last_valid_action_at: datetime | None = None
    stall_deadline: datetime | None = None
    open_alert_id: str = ""
    # Who must act on the open alert now (empty when no alert is open).
    alert_level: str = ""
    # The template version the opportunity started on (empty: the generic pipeline,
    # ungated); it is judged by that version to the end.
    template_id: str = ""
    template_version: int = 0
    # Events applied; the actions themselves are kept beside the state (they grow
    # without bound, the state must not).
    version: int = 0

    @property
    def key(self) -> str:
        return f"{self.tenant_id}/{self.opportunity_id}"


@dataclass(frozen=True)
class ArmStall:
    stage: str
    deadline: datetime


@dataclass(frozen=True)
class DisarmStall:
    pass


@dataclass(frozen=True)
class StoreAction:
    action: RecordedAction


@dataclass(frozen=True)
class RaiseStallAlert:
    alert_id: str
    opportunity: OpportunityState
    deadline: datetime
    level: EscalationLevel = EscalationLevel.MANAGER


@dataclass(frozen=True)
class ArmEscalation:
    """Escalate `alert_id` to `level` at `due_at` unless it is handled first."""

    alert_id: str
    level: EscalationLevel
    due_at: datetime


@dataclass(frozen=True)
class DisarmEscalation:
    pass


@dataclass(frozen=True)
class EscalateAlert:
    alert_id: str
    opportunity: OpportunityState
    level: EscalationLevel
    at: datetime


@dataclass(frozen=True)
class ChangeAlertStatus:
    """The open alert is closed: handled or snoozed by a person, or resolved by work."""

    alert_id: str
    status: AlertStatus
    actor_id: str
    at: datetime
    note: str = ""
    snoozed_until: datetime | None = None


Effect = (
    ArmStall
    | DisarmStall
    | StoreAction
    | RaiseStallAlert
    | ArmEscalation
    | DisarmEscalation
    | EscalateAlert
    | ChangeAlertStatus
)


@dataclass(frozen=True)
class Outcome:
    state: OpportunityState
    effects: tuple[Effect, ...] = field(default_factory=tuple)


def _with_stall_timer(state: OpportunityState, policy: ProcessPolicy) -> Outcome:
    """Re-arm the breaker from the latest of stage entry and last valid action."""
    if is_closed(state.stage):
        return Outcome(replace(state, stall_deadline=None), (DisarmStall(),))
    quiet_since = max(filter(None, (state.stage_entered_at, state.last_valid_action_at)))
    deadline = quiet_since + policy.stall_threshold_for(state.stage)
    return Outcome(replace(state, stall_deadline=deadline), (ArmStall(state.stage, deadline),))


def opened(
    *,
    tenant_id: str,
    opportunity_id: str,
    account_id: str,
    name: str,
    owner_id: str,
    stage: str,
    amount_cents: int,
    currency: str,
    at: datetime,
    policy: ProcessPolicy,
    template_id: str = "",
    template_version: int = 0,
) -> Outcome:
    state = OpportunityState(
        tenant_id=tenant_id,
        opportunity_id=opportunity_id,
        account_id=account_id,
        name=name,
        owner_id=owner_id,
        stage=stage,
        amount_cents=amount_cents,
        currency=currency,
        opened_at=at,
        stage_entered_at=at,
        template_id=template_id,
        template_version=template_version,
        version=1,
    )
    return _with_stall_timer(state, policy)


def _resolving_open_alert(state: OpportunityState, actor_id: str, at: datetime) -> tuple[Effect, ...]:
    if not state.open_alert_id:
        return ()
    return (DisarmEscalation(), ChangeAlertStatus(state.open_alert_id, AlertStatus.RESOLVED, actor_id, at))


def stage_changed(
    state: OpportunityState, to_stage: str, at: datetime, policy: ProcessPolicy, actor_id: str = ""
) -> Outcome:
    moved = replace(
        state,
        stage=to_stage,
        stage_entered_at=at,
        last_valid_action_at=None,
        open_alert_id="",
        alert_level="",
        version=state.version + 1,
    )
    rearmed = _with_stall_timer(moved, policy)
    return Outcome(rearmed.state, (*_resolving_open_alert(state, actor_id, at), *rearmed.effects))


def action_recorded(
    state: OpportunityState,
    *,
    action_id: str,
    kind: ActionKind,
    evidence: Evidence,
    verdict: Verdict,
    occurred_at: datetime,
    actor_id: str,
    policy: ProcessPolicy,
    template_action_id: str = "",
    submission: Mapping[str, Any] | None = None,
) -> Outcome:
    stored = StoreAction(
        RecordedAction(
            action_id,
            kind,
            evidence,
            verdict.valid,
            verdict.reasons,
            occurred_at,
            actor_id,
            template_action_id=template_action_id,
            stage=state.stage,
            submission=submission,
        )
    )
    updated = replace(state, version=state.version + 1)
    # Only a valid action taken in the current stage proves the opportunity is moving.
    if not verdict.valid or occurred_at < state.stage_entered_at or is_closed(state.stage):
        return Outcome(updated, (stored,))
    latest = max(filter(None, (state.last_valid_action_at, occurred_at)))
    rearmed = _with_stall_timer(replace(updated, last_valid_action_at=latest, open_alert_id="", alert_level=""), policy)
    return Outcome(rearmed.state, (stored, *_resolving_open_alert(state, actor_id, occurred_at), *rearmed.effects))


def stall_alert_id(state: OpportunityState, deadline: datetime) -> str:
    """Deterministic, so a redelivered deadline raises the alert it already raised."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{state.key}\x1f{state.stage}\x1f{deadline.isoformat()}"))


def stall_deadline_reached(
    state: OpportunityState, stage: str, deadline: datetime, policy: ProcessPolicy
) -> Outcome:
    """Raise the alert once, and only if this deadline is still the opportunity's current
    one (a valid action or a stage change since then superseded it). The alert goes to
    the rep, and to the manager at once or after the tenant's delay."""
    if state.stage != stage or state.stall_deadline != deadline or state.open_alert_id:
        return Outcome(state)
    alert_id = stall_alert_id(state, deadline)
    at_once = policy.escalate_to_manager_after == timedelta(0)
    level = EscalationLevel.MANAGER if at_once else EscalationLevel.REP
    alerted = replace(
        state, open_alert_id=alert_id, alert_level=level.value, stall_deadline=None, version=state.version + 1
    )
    return Outcome(
        alerted, (RaiseStallAlert(alert_id, alerted, deadline, level), _next_escalation(alert_id, level, deadline, policy))
    )


def _next_escalation(alert_id: str, level: EscalationLevel, since: datetime, policy: ProcessPolicy) -> Effect:
    if level is EscalationLevel.REP:
        return ArmEscalation(alert_id, EscalationLevel.MANAGER, since + policy.escalate_to_manager_after)
    if level is EscalationLevel.MANAGER:
        return ArmEscalation(alert_id, EscalationLevel.DIRECTOR, since + policy.escalate_to_director_after)
    return DisarmEscalation()


def escalation_due(
    state: OpportunityState, alert_id: str, level: EscalationLevel, due_at: datetime, policy: ProcessPolicy
) -> Outcome:
    """The alert is still open and unhandled when its escalation falls due: it moves
    one level up. A stale firing (handled, resolved or already escalated) changes nothing."""
    current = EscalationLevel(state.alert_level) if state.alert_level else None
    if state.open_alert_id != alert_id or current is None or current.next is not level:
        return Outcome(state)
    escalated = replace(state, alert_level=level.value, version=state.version + 1)
    return Outcome(
        escalated,
        (EscalateAlert(alert_id, escalated, level, due_at), _next_escalation(alert_id, level, due_at, policy)),
    )


def _require_open_alert(state: OpportunityState, alert_id: str) -> None:
    if not alert_id or state.open_alert_id != alert_id:
        raise PreconditionFailed(
            f"alert {alert_id} is not open on opportunity {state.opportunity_id}"
            + (f" (the open alert is {state.open_alert_id})" if state.open_alert_id else "")
        )


def validate_alert_command(state: OpportunityState, alert_id: str, note: str, *, reason_required: bool) -> None:
    """Handling or snoozing needs the alert to be the open one; a snooze needs a reason."""
    _require_open_alert(state, alert_id)
    if reason_required and not note.strip():
        raise InvalidCommand("reason", "a snooze needs a reason")
    if len(note) > 2000:
        raise InvalidCommand("reason" if reason_required else "note", "must be at most 2000 characters")


def alert_handled(
    state: OpportunityState, alert_id: str, actor_id: str, note: str, at: datetime, policy: ProcessPolicy
) -> Outcome:
    """Someone took the alert on: escalation stops, and the breaker re-arms from now
    so the opportunity cannot go silent for good."""
    if state.open_alert_id != alert_id:
        return Outcome(replace(state, version=state.version + 1))
    cleared = replace(state, open_alert_id="", alert_level="")
    rearmed = _rearm_from(cleared, at, policy.stall_threshold_for(state.stage))
    return Outcome(
        replace(rearmed.state, version=state.version + 1),
        (DisarmEscalation(), ChangeAlertStatus(alert_id, AlertStatus.HANDLED, actor_id, at, note), *rearmed.effects),
    )


def alert_snoozed(
    state: OpportunityState, alert_id: str, actor_id: str, reason: str, at: datetime, until: datetime
) -> Outcome:
    """Snoozed with a reason: escalation stops and the breaker re-arms for `until`; still
    no valid action by then raises a new alert."""
    if state.open_alert_id != alert_id:
        return Outcome(replace(state, version=state.version + 1))
    cleared = replace(state, open_alert_id="", alert_level="")
    rearmed = _rearm_from(cleared, at, until - at)
    return Outcome(
        replace(rearmed.state, version=state.version + 1),
        (
            DisarmEscalation(),
            ChangeAlertStatus(alert_id, AlertStatus.SNOOZED, actor_id, at, reason, snoozed_until=until),
            *rearmed.effects,
        ),
    )


def _rearm_from(state: OpportunityState, at: datetime, threshold: timedelta) -> Outcome:
    if is_closed(state.stage):
        return Outcome(replace(state, stall_deadline=None), (DisarmStall(),))
    deadline = at + threshold
    return Outcome(replace(state, stall_deadline=deadline), (ArmStall(state.stage, deadline),))

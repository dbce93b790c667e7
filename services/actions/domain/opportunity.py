"""An opportunity's state and the silent-timeout (stall) breaker.

Pure functions from (state, fact) to (new state, effects). The stream adapter applies
facts in the order of the opportunity's topic partition and carries the effects out
(arm or disarm the stall deadline, raise an alert), so replaying the topic rebuilds the
same state and the same decisions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

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


Effect = ArmStall | DisarmStall | StoreAction | RaiseStallAlert


@dataclass(frozen=True)
class Outcome:
    state: OpportunityState
    effects: tuple[Effect, ...] = field(default_factory=tuple)


def _with_stall_timer(state: OpportunityState, policy: ProcessPolicy) -> Outcome:
    """Re-arm the breaker from the latest of stage entry and last valid action."""
    if is_closed(state.stage):
        return Outcome(replace(state, stall_deadline=None), (DisarmStall(),))
    quiet_since = max(filter(None, (state.stage_entered_at, state.last_valid_action_at)))
    deadline = quiet_since + policy.stall_threshold
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
        version=1,
    )
    return _with_stall_timer(state, policy)


def stage_changed(state: OpportunityState, to_stage: str, at: datetime, policy: ProcessPolicy) -> Outcome:
    moved = replace(
        state,
        stage=to_stage,
        stage_entered_at=at,
        last_valid_action_at=None,
        open_alert_id="",
        version=state.version + 1,
    )
    return _with_stall_timer(moved, policy)


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
) -> Outcome:
    stored = StoreAction(RecordedAction(action_id, kind, evidence, verdict.valid, verdict.reasons, occurred_at, actor_id))
    updated = replace(state, version=state.version + 1)
    # Only a valid action taken in the current stage proves the opportunity is moving.
    if not verdict.valid or occurred_at < state.stage_entered_at or is_closed(state.stage):
        return Outcome(updated, (stored,))
    latest = max(filter(None, (state.last_valid_action_at, occurred_at)))
    rearmed = _with_stall_timer(replace(updated, last_valid_action_at=latest, open_alert_id=""), policy)
    return Outcome(rearmed.state, (stored, *rearmed.effects))


def stall_alert_id(state: OpportunityState, deadline: datetime) -> str:
    """Deterministic, so a redelivered deadline raises the alert it already raised."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{state.key}\x1f{state.stage}\x1f{deadline.isoformat()}"))


def stall_deadline_reached(state: OpportunityState, stage: str, deadline: datetime) -> Outcome:
    """Raise the alert once, and only if this deadline is still the opportunity's current
    one (a valid action or a stage change since then superseded it)."""
    if state.stage != stage or state.stall_deadline != deadline or state.open_alert_id:
        return Outcome(state)
    alert_id = stall_alert_id(state, deadline)
    alerted = replace(state, open_alert_id=alert_id, stall_deadline=None, version=state.version + 1)
    return Outcome(alerted, (RaiseStallAlert(alert_id, alerted, deadline),))

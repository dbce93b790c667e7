from datetime import datetime, timedelta, timezone

import pytest

from services.actions.domain import opportunity as opp
from services.actions.domain.evidence import ActionKind, Evidence, Verdict
from services.actions.domain.errors import InvalidCommand, PreconditionFailed
from services.actions.domain.opportunity import (
    AlertStatus,
    ArmEscalation,
    ArmStall,
    ChangeAlertStatus,
    DisarmEscalation,
    DisarmStall,
    EscalateAlert,
    EscalationLevel,
    RaiseStallAlert,
    StoreAction,
)
from services.actions.domain.policy import DEFAULT_POLICY

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def open_opportunity(stage="qualification", policy=DEFAULT_POLICY):
    return opp.opened(
        tenant_id="acme",
        opportunity_id="o1",
        account_id="a1",
        name="Hospital X",
        owner_id="rep-1",
        stage=stage,
        amount_cents=100,
        currency="CNY",
        at=T0,
        policy=policy,
    )


def act(state, at, valid=True, action_id="x1"):
    verdict = Verdict(valid, () if valid else ("too short",))
    return opp.action_recorded(
        state,
        action_id=action_id,
        kind=ActionKind.CALL,
        evidence=Evidence(call_duration_seconds=600 if valid else 5),
        verdict=verdict,
        occurred_at=at,
        actor_id="rep-1",
        policy=DEFAULT_POLICY,
    )


def test_opening_arms_the_breaker_48_hours_out_by_default():
    outcome = open_opportunity()
    assert outcome.state.stall_deadline == T0 + 48 * H
    assert outcome.effects == (ArmStall("qualification", T0 + 48 * H),)


def test_tenant_threshold_replaces_the_default():
    policy = DEFAULT_POLICY.with_stall_threshold(6 * H)
    assert open_opportunity(policy=policy).state.stall_deadline == T0 + 6 * H


def test_valid_action_pushes_the_deadline_from_the_action_time():
    outcome = act(open_opportunity().state, T0 + 10 * H)
    assert outcome.state.last_valid_action_at == T0 + 10 * H
    stored, armed = outcome.effects
    assert isinstance(stored, StoreAction) and stored.action.valid
    assert armed == ArmStall("qualification", T0 + 58 * H)


def test_invalid_action_is_recorded_but_does_not_reset_the_timer():
    outcome = act(open_opportunity().state, T0 + 10 * H, valid=False)
    (stored,) = outcome.effects
    assert stored.action.invalid_reasons == ("too short",)
    assert outcome.state.stall_deadline == T0 + 48 * H


def test_action_dated_before_the_current_stage_does_not_count_for_it():
    moved = opp.stage_changed(open_opportunity().state, "proposal", T0 + 5 * H, DEFAULT_POLICY).state
    outcome = act(moved, T0 + 1 * H)
    assert outcome.state.stall_deadline == T0 + 53 * H
    assert [type(e) for e in outcome.effects] == [StoreAction]


def test_stage_change_restarts_the_clock_and_closing_disarms_it():
    moved = opp.stage_changed(open_opportunity().state, "proposal", T0 + 5 * H, DEFAULT_POLICY)
    assert moved.effects == (ArmStall("proposal", T0 + 53 * H),)
    closed = opp.stage_changed(moved.state, "closed_won", T0 + 6 * H, DEFAULT_POLICY)
    assert closed.effects == (DisarmStall(),)
    assert closed.state.stall_deadline is None


def test_reached_deadline_raises_exactly_one_alert():
    state = open_opportunity().state
    first = opp.stall_deadline_reached(state, "qualification", T0 + 48 * H, DEFAULT_POLICY)
    effect, escalation = first.effects
    assert escalation == ArmEscalation(effect.alert_id, EscalationLevel.DIRECTOR, T0 + 72 * H)
    assert isinstance(effect, RaiseStallAlert)
    assert first.state.open_alert_id == effect.alert_id
    again = opp.stall_deadline_reached(first.state, "qualification", T0 + 48 * H, DEFAULT_POLICY)
    assert again.effects == ()


def test_alert_id_is_deterministic_across_replays():
    a = opp.stall_deadline_reached(open_opportunity().state, "qualification", T0 + 48 * H, DEFAULT_POLICY)
    b = opp.stall_deadline_reached(open_opportunity().state, "qualification", T0 + 48 * H, DEFAULT_POLICY)
    assert a.effects[0].alert_id == b.effects[0].alert_id


@pytest.mark.parametrize(
    "change",
    [
        lambda s: act(s, T0 + 1 * H).state,  # a valid action moved the deadline
        lambda s: opp.stage_changed(s, "proposal", T0 + 1 * H, DEFAULT_POLICY).state,
    ],
)
def test_superseded_deadline_is_ignored(change):
    state = change(open_opportunity().state)
    assert opp.stall_deadline_reached(state, "qualification", T0 + 48 * H, DEFAULT_POLICY).effects == ()


def test_valid_action_after_an_alert_rearms_the_breaker():
    alerted = opp.stall_deadline_reached(open_opportunity().state, "qualification", T0 + 48 * H, DEFAULT_POLICY).state
    outcome = act(alerted, T0 + 50 * H)
    assert outcome.state.open_alert_id == ""
    assert outcome.effects[1:] == (
        DisarmEscalation(),
        ChangeAlertStatus(alerted.open_alert_id, AlertStatus.RESOLVED, "rep-1", T0 + 50 * H),
        ArmStall("qualification", T0 + 98 * H),
    )


def alerted(policy=DEFAULT_POLICY):
    return opp.stall_deadline_reached(open_opportunity(policy=policy).state, "qualification", T0 + 48 * H, policy)


def test_a_stage_threshold_of_its_own_applies_to_that_stage():
    policy = DEFAULT_POLICY.updated(stage_stall_thresholds={"qualification": 12 * H})
    assert open_opportunity(policy=policy).state.stall_deadline == T0 + 12 * H
    assert open_opportunity(stage="lead", policy=policy).state.stall_deadline == T0 + 48 * H


def test_with_a_manager_delay_the_alert_goes_to_the_rep_then_the_manager_then_the_director():
    policy = DEFAULT_POLICY.updated(escalate_to_manager_after=2 * H, escalate_to_director_after=10 * H)
    raised = opp.stall_deadline_reached(open_opportunity(policy=policy).state, "qualification", T0 + 48 * H, policy)
    alert, arm = raised.effects
    assert alert.level is EscalationLevel.REP
    assert arm == ArmEscalation(alert.alert_id, EscalationLevel.MANAGER, T0 + 50 * H)
    to_manager = opp.escalation_due(raised.state, alert.alert_id, EscalationLevel.MANAGER, T0 + 50 * H, policy)
    escalate, arm = to_manager.effects
    assert isinstance(escalate, EscalateAlert) and escalate.level is EscalationLevel.MANAGER
    assert arm == ArmEscalation(alert.alert_id, EscalationLevel.DIRECTOR, T0 + 60 * H)
    to_director = opp.escalation_due(to_manager.state, alert.alert_id, EscalationLevel.DIRECTOR, T0 + 60 * H, policy)
    assert to_director.state.alert_level == "director"
    assert to_director.effects[-1] == DisarmEscalation()  # the top of the chain
    # A redelivered escalation, or one for a level already passed, changes nothing.
    assert opp.escalation_due(to_director.state, alert.alert_id, EscalationLevel.DIRECTOR, T0 + 60 * H, policy).effects == ()


def test_a_handled_alert_does_not_escalate_and_the_breaker_rearms_from_the_handling():
    raised = alerted()
    alert_id = raised.state.open_alert_id
    handled = opp.alert_handled(raised.state, alert_id, "ann", "called the customer", T0 + 50 * H, DEFAULT_POLICY)
    assert handled.effects == (
        DisarmEscalation(),
        ChangeAlertStatus(alert_id, AlertStatus.HANDLED, "ann", T0 + 50 * H, "called the customer"),
        ArmStall("qualification", T0 + 98 * H),
    )
    assert opp.escalation_due(handled.state, alert_id, EscalationLevel.DIRECTOR, T0 + 72 * H, DEFAULT_POLICY).effects == ()


def test_a_snooze_needs_a_reason_and_rearms_the_breaker_for_its_end():
    raised = alerted()
    alert_id = raised.state.open_alert_id
    with pytest.raises(InvalidCommand) as caught:
        opp.validate_alert_command(raised.state, alert_id, "  ", reason_required=True)
    assert caught.value.field == "reason"
    with pytest.raises(PreconditionFailed):
        opp.validate_alert_command(raised.state, "another-alert", "busy", reason_required=True)
    snoozed = opp.alert_snoozed(raised.state, alert_id, "ann", "customer on holiday", T0 + 49 * H, T0 + 73 * H)
    assert snoozed.state.stall_deadline == T0 + 73 * H and snoozed.state.open_alert_id == ""
    assert snoozed.effects[1] == ChangeAlertStatus(
        alert_id, AlertStatus.SNOOZED, "ann", T0 + 49 * H, "customer on holiday", snoozed_until=T0 + 73 * H
    )
    # Still silent at the snooze's end: a new alert.
    again = opp.stall_deadline_reached(snoozed.state, "qualification", T0 + 73 * H, DEFAULT_POLICY)
    assert isinstance(again.effects[0], RaiseStallAlert) and again.effects[0].alert_id != alert_id


def test_a_stage_change_resolves_the_open_alert():
    raised = alerted()
    moved = opp.stage_changed(raised.state, "proposal", T0 + 49 * H, DEFAULT_POLICY, "rep-1")
    assert moved.effects[:2] == (
        DisarmEscalation(),
        ChangeAlertStatus(raised.state.open_alert_id, AlertStatus.RESOLVED, "rep-1", T0 + 49 * H),
    )

from datetime import datetime, timedelta, timezone

import pytest

from services.actions.domain import commands
from services.actions.domain import opportunity as opp
from services.actions.domain.errors import AlreadyExists, InvalidCommand, NotFound, PreconditionFailed
from services.actions.domain.evidence import ActionKind, Evidence, verify
from services.actions.domain.policy import DEFAULT_POLICY

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def command(**overrides):
    fields = dict(
        opportunity_id="o1", account_id="a1", name="Deal", owner_id="rep-1", stage="lead", amount_cents=5, currency="CNY"
    )
    fields.update(overrides)
    return commands.OpenOpportunity(**fields)


def state(stage="lead"):
    return opp.opened(
        tenant_id="t", opportunity_id="o1", account_id="a1", name="Deal", owner_id="rep-1", stage=stage,
        amount_cents=5, currency="CNY", at=T0, policy=DEFAULT_POLICY,
    ).state


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"opportunity_id": ""}, "opportunity_id"),
        ({"opportunity_id": "has space"}, "opportunity_id"),
        ({"name": "  "}, "name"),
        ({"stage": "won-ish"}, "stage"),
        ({"stage": "closed_won"}, "stage"),
        ({"amount_cents": -1}, "amount_cents"),
        ({"currency": "yuan"}, "currency"),
    ],
)
def test_open_rejects_bad_fields_naming_the_field(overrides, field):
    with pytest.raises(InvalidCommand) as caught:
        commands.validate_open(command(**overrides), None, account_exists=True)
    assert caught.value.field == field


def test_open_needs_an_existing_account():
    with pytest.raises(NotFound):
        commands.validate_open(command(), None, account_exists=False)


def test_repeating_an_open_is_a_no_op_and_a_conflicting_one_is_refused():
    assert commands.validate_open(command(), state(), account_exists=True) is False
    with pytest.raises(AlreadyExists):
        commands.validate_open(command(amount_cents=6), state(), account_exists=True)


def test_stage_change_rules():
    assert commands.validate_stage_change(state(), "proposal") is True
    assert commands.validate_stage_change(state(), "lead") is False
    with pytest.raises(InvalidCommand):
        commands.validate_stage_change(state(), "nowhere")
    closed = opp.stage_changed(state(), "closed_lost", T0, DEFAULT_POLICY).state
    with pytest.raises(PreconditionFailed):
        commands.validate_stage_change(closed, "proposal")


def test_action_time_must_be_believable():
    s = state()
    with pytest.raises(InvalidCommand):
        commands.validate_action(s, None, action_id="a", kind=ActionKind.CALL, evidence=Evidence(), occurred_at=T0 + timedelta(hours=1), now=T0)
    with pytest.raises(InvalidCommand):
        commands.validate_action(s, None, action_id="a", kind=ActionKind.CALL, evidence=Evidence(), occurred_at=T0 - timedelta(days=1), now=T0)


def test_repeating_an_action_is_a_no_op_and_a_conflicting_one_is_refused():
    s = state()
    evidence = Evidence(call_duration_seconds=90)
    recorded = opp.RecordedAction("a", ActionKind.CALL, evidence, True, (), T0, "rep-1")
    same = dict(action_id="a", kind=ActionKind.CALL, evidence=evidence, occurred_at=T0, now=T0)
    assert commands.validate_action(s, None, **same) is True
    assert commands.validate_action(s, recorded, **same) is False
    # A retry that left the time to the service cannot restate it: still the same action.
    assert commands.validate_action(s, recorded, **{**same, "occurred_at": None}) is False
    for changed in ({"kind": ActionKind.EMAIL}, {"evidence": Evidence(call_duration_seconds=300)}, {"occurred_at": T0 + timedelta(minutes=1)}):
        with pytest.raises(AlreadyExists):
            commands.validate_action(s, recorded, **{**same, **changed})


def test_evidence_rules():
    p = DEFAULT_POLICY
    assert verify(ActionKind.CALL, Evidence(call_duration_seconds=59), p).valid is False
    assert verify(ActionKind.CALL, Evidence(call_duration_seconds=60), p).valid is True
    assert verify(ActionKind.EMAIL, Evidence(), p).reasons
    assert verify(ActionKind.EMAIL, Evidence(email_message_id="<m@x>"), p).valid
    assert verify(ActionKind.VISIT, Evidence(checkin_id="c-1"), p).valid
    assert not verify(ActionKind.NOTE, Evidence(note="ok"), p).valid


def test_stall_threshold_bounds():
    with pytest.raises(InvalidCommand):
        DEFAULT_POLICY.with_stall_threshold(timedelta(seconds=5))
    assert DEFAULT_POLICY.with_stall_threshold(timedelta(hours=6)).stall_threshold == timedelta(hours=6)

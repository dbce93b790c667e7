from datetime import datetime, timedelta, timezone

import pytest

from services.actions.domain import leads
from services.actions.domain.errors import AlreadyExists, InvalidCommand, PreconditionFailed
from services.actions.domain.leads import (
    ArmResponseTimer,
    CloseResponseAlert,
    Contact,
    ContactKind,
    DisarmResponseTimer,
    LeadStatus,
    NewLead,
    RaiseResponseAlert,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
M = timedelta(minutes=1)
LIMIT = 15 * M
MIN_CALL = timedelta(seconds=60)


def new_lead(**changes) -> NewLead:
    fields = {"lead_id": "l1", "name": "Dr. Wang", "company": "Ruijin", "contact_phone": "+86 21 6437 0045"}
    fields.update(changes)
    return NewLead(**fields).normalised()


def assigned_lead(rep="bob", at=T0):
    state = leads.created("acme", new_lead(), at).state
    return leads.assigned(state, rep, at, LIMIT, "ann").state


def call(rep="bob", at=T0 + 5 * M, seconds=120, activity="a1"):
    return Contact(activity_id=activity, rep_id=rep, kind=ContactKind.CALL, at=at, call_duration_seconds=seconds)


# --- commands ------------------------------------------------------------------------
def test_a_lead_needs_a_name_and_a_way_to_reach_it():
    with pytest.raises(InvalidCommand) as no_name:
        NewLead(lead_id="l1", name="  ", contact_phone="1").normalised()
    assert no_name.value.field == "name"
    with pytest.raises(InvalidCommand) as unreachable:
        NewLead(lead_id="l1", name="Wang").normalised()
    assert unreachable.value.field == "contact_phone"
    with pytest.raises(InvalidCommand) as email:
        NewLead(lead_id="l1", name="Wang", contact_email="not-an-email").normalised()
    assert email.value.field == "contact_email"
    with pytest.raises(InvalidCommand):
        NewLead(lead_id="l1", name="x" * 201, contact_phone="1").normalised()


def test_creating_again_with_the_same_details_is_a_no_op_and_other_details_conflict():
    state = leads.created("acme", new_lead(), T0).state
    assert leads.validate_create(new_lead(), None) is True
    assert leads.validate_create(new_lead(), state) is False
    with pytest.raises(AlreadyExists):
        leads.validate_create(new_lead(company="Huashan"), state)


def test_a_converted_lead_cannot_be_reassigned_and_assigning_the_owner_again_changes_nothing():
    state = assigned_lead()
    assert leads.validate_assign(state, "bob") is False
    assert leads.validate_assign(state, "carl") is True
    converted = leads.converted(state, "o1", T0 + M, "bob").state
    with pytest.raises(PreconditionFailed):
        leads.validate_assign(converted, "carl")


def test_converting_needs_an_assignment_and_happens_once():
    unassigned = leads.created("acme", new_lead(), T0).state
    with pytest.raises(PreconditionFailed):
        leads.validate_convert(unassigned, "o1")
    state = leads.converted(assigned_lead(), "o1", T0 + M, "bob").state
    assert leads.validate_convert(state, "o1") is False
    with pytest.raises(PreconditionFailed):
        leads.validate_convert(state, "o2")


# --- the response rule ---------------------------------------------------------------
def test_assigning_arms_the_response_timer_at_the_limit():
    state = leads.created("acme", new_lead(), T0).state
    assert state.status is LeadStatus.UNASSIGNED
    outcome = leads.assigned(state, "bob", T0, LIMIT, "ann")
    assert outcome.effects == (ArmResponseTimer("bob", T0, T0 + LIMIT),)
    assert outcome.state.status is LeadStatus.AWAITING_RESPONSE
    assert outcome.state.owner_id == "bob"


def test_a_connected_call_by_the_assigned_rep_in_time_answers_the_lead_and_disarms_the_timer():
    outcome = leads.contacted(assigned_lead(), call(), MIN_CALL)
    assert outcome.effects == (DisarmResponseTimer(),)
    assert outcome.state.status is LeadStatus.RESPONDED
    first = outcome.state.first_response
    assert (first.response_time, first.response_kind, first.response_activity_id) == (5 * M, ContactKind.CALL, "a1")
    # The deadline firing afterwards is stale.
    assert leads.response_deadline_reached(outcome.state, "bob", T0 + LIMIT).effects == ()


@pytest.mark.parametrize(
    "contact",
    [
        call(seconds=30),  # too short to be an effective call
        call(rep="carl"),  # somebody else (a duplicate touch, not the response)
        call(at=T0 - M),  # before the assignment
    ],
)
def test_contacts_that_are_no_valid_response_change_nothing(contact):
    state = assigned_lead()
    outcome = leads.contacted(state, contact, MIN_CALL)
    assert outcome.effects == ()
    assert outcome.state.first_response is None


@pytest.mark.parametrize("kind", [ContactKind.EMAIL, ContactKind.WECOM_CONTACT, ContactKind.EFFECTIVE_VISIT])
def test_an_email_a_wecom_contact_or_an_effective_visit_answers_the_lead(kind):
    contact = Contact(activity_id="a9", rep_id="bob", kind=kind, at=T0 + 2 * M)
    assert leads.contacted(assigned_lead(), contact, MIN_CALL).state.status is LeadStatus.RESPONDED


def test_no_response_by_the_deadline_raises_one_alert_for_the_rep():
    state = assigned_lead()
    outcome = leads.response_deadline_reached(state, "bob", T0 + LIMIT)
    (alert,) = outcome.effects
    assert isinstance(alert, RaiseResponseAlert)
    assert (alert.rep_id, alert.assigned_at, alert.deadline) == ("bob", T0, T0 + LIMIT)
    assert alert.alert_id == leads.response_alert_id(state, "bob", T0 + LIMIT)
    assert outcome.state.current.overdue and outcome.state.open_alert_id == alert.alert_id
    # A redelivered deadline raises nothing more.
    assert leads.response_deadline_reached(outcome.state, "bob", T0 + LIMIT).effects == ()


def test_a_deadline_of_a_previous_assignment_is_stale():
    state = leads.assigned(assigned_lead(), "carl", T0 + 10 * M, LIMIT, "ann").state
    assert leads.response_deadline_reached(state, "bob", T0 + LIMIT).effects == ()
    assert leads.response_deadline_reached(state, "carl", T0 + 25 * M).effects != ()


def test_a_late_response_closes_the_alert_and_counts_as_answered_late():
    alerted = leads.response_deadline_reached(assigned_lead(), "bob", T0 + LIMIT).state
    outcome = leads.contacted(alerted, call(at=T0 + 20 * M), MIN_CALL)
    close = next(e for e in outcome.effects if isinstance(e, CloseResponseAlert))
    assert close.alert_id == alerted.open_alert_id and "5.0 min late" in close.note
    assert outcome.state.open_alert_id == ""
    stats = leads.response_stats([outcome.state], {}, T0, T0 + 60 * M, T0 + 60 * M)
    assert (stats.total.answered, stats.total.answered_within_limit, stats.total.within_limit_percent) == (1, 0, 0.0)


def test_reassigning_closes_the_open_alert_and_gives_the_new_rep_the_full_limit():
    alerted = leads.response_deadline_reached(assigned_lead(), "bob", T0 + LIMIT).state
    outcome = leads.assigned(alerted, "carl", T0 + 20 * M, LIMIT, "ann")
    assert isinstance(outcome.effects[0], CloseResponseAlert) and outcome.effects[0].note == "reassigned to carl"
    assert outcome.effects[1] == ArmResponseTimer("carl", T0 + 20 * M, T0 + 35 * M)
    assert outcome.state.assignments[0].ended_at == T0 + 20 * M


def test_reassigning_an_answered_lead_arms_nothing():
    answered = leads.contacted(assigned_lead(), call(), MIN_CALL).state
    outcome = leads.assigned(answered, "carl", T0 + 20 * M, LIMIT, "ann")
    assert outcome.effects == (DisarmResponseTimer(),)
    assert outcome.state.current.deadline is None
    assert outcome.state.status is LeadStatus.RESPONDED


def test_converting_disarms_the_timer_and_keeps_the_opportunity():
    outcome = leads.converted(assigned_lead(), "o1", T0 + M, "bob")
    assert outcome.effects == (DisarmResponseTimer(),)
    assert outcome.state.status is LeadStatus.CONVERTED
    assert leads.response_deadline_reached(outcome.state, "bob", T0 + LIMIT).effects == ()


# --- distributions -------------------------------------------------------------------------
def _lead(lead_id, rep, assigned_at, answered_after=None, deadline_passed=False):
    state = leads.assigned(
        leads.created("acme", new_lead(lead_id=lead_id), assigned_at).state, rep, assigned_at, LIMIT, "ann"
    ).state
    if deadline_passed:
        state = leads.response_deadline_reached(state, rep, assigned_at + LIMIT).state
    if answered_after is not None:
        state = leads.contacted(state, call(rep=rep, at=assigned_at + answered_after, activity=lead_id), MIN_CALL).state
    return state


def test_response_stats_per_rep_team_and_total():
    now = T0 + timedelta(hours=3)
    found = [
        _lead("l1", "bob", T0, 2 * M),
        _lead("l2", "bob", T0 + M, 10 * M),
        _lead("l3", "bob", T0 + 2 * M, 40 * M, deadline_passed=True),
        _lead("l4", "carl", T0, None, deadline_passed=True),
        _lead("l5", "carl", now - M),  # deadline ahead: pending
        _lead("l6", "dave", T0 - timedelta(days=40), 1 * M),  # outside the period
    ]
    stats = leads.response_stats(found, {"bob": "ann", "carl": "ann", "dave": "zoe"}, T0 - timedelta(days=1), now, now)
    bob = next(d for d in stats.reps if d.id == "bob")
    assert (bob.assignments, bob.answered, bob.answered_within_limit) == (3, 3, 2)
    assert (bob.p50_seconds, bob.p90_seconds, bob.within_limit_percent) == (600.0, 2400.0, 66.67)
    carl = next(d for d in stats.reps if d.id == "carl")
    assert (carl.overdue_unanswered, carl.pending, carl.within_limit_percent, carl.p50_seconds) == (1, 1, 0.0, 0.0)
    (team,) = stats.teams
    assert (team.id, team.assignments, team.within_limit_percent) == ("ann", 5, 50.0)
    assert team.lead_ids == ("l1", "l2", "l3", "l4", "l5")
    assert stats.total.assignments == 5


def test_an_assignment_taken_away_unanswered_before_its_deadline_is_not_counted():
    state = leads.assigned(_lead("l1", "bob", T0), "carl", T0 + 5 * M, LIMIT, "ann").state
    state = leads.contacted(state, call(rep="carl", at=T0 + 7 * M), MIN_CALL).state
    stats = leads.response_stats([state], {}, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1))
    assert [d.id for d in stats.reps] == ["carl"]
    assert stats.reps[0].p50_seconds == 120.0


def test_percentile_is_nearest_rank():
    assert leads.percentile([], 50) == 0.0
    assert leads.percentile([5, 1, 3, 2, 4], 50) == 3
    assert leads.percentile(list(range(1, 11)), 90) == 9

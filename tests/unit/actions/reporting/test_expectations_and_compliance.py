"""Expectations, aggregate changes and the weekly compliance report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.reporting import compliance as c
from services.actions.domain.reporting import expectations as x
from services.actions.domain.reporting.calendar import Week, due_daily_run, due_weekly_run, zone
from services.actions.domain.templates import load_catalogue
from services.actions.domain.templates.model import TemplateRef

SHANGHAI = zone("Asia/Shanghai")
MEDICAL = load_catalogue().resolve(TemplateRef("medical_devices", 1), tenant_id="acme")
# Monday 2026-03-02 09:00 Shanghai.
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
STALL = timedelta(hours=48)


def open_medical(at=MONDAY, owner="bob", opp="ct-1", stage="lead", amount=100_000_00):
    return x.opened(
        tenant_id="acme", opportunity_id=opp, name=f"Deal {opp}", owner_id=owner, amount_cents=amount, currency="CNY",
        template=MEDICAL.ref, stage=stage, stage_spec=MEDICAL.stage(stage), at=at, stall_threshold=STALL, tz=SHANGHAI,
    )


class Aggregates:
    """What the Redis adapter keeps, in memory: counters and drill-down rows."""

    def __init__(self) -> None:
        self.counts: dict[Week, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self.followup: dict[Week, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self.rows: dict[str, x.MissingEntry] = {}

    def apply(self, applied: x.Applied) -> x.TrackedOpportunity:
        for change in applied.changes:
            if isinstance(change, x.Count):
                self.counts[change.week][change.rep_id][change.metric] += change.amount
            elif isinstance(change, x.FollowUpCount):
                self.followup[change.week][change.rep_id][change.metric] += change.amount
            elif isinstance(change, x.MissingEntry):
                self.rows[change.key] = change
            elif isinstance(change, x.Forget):
                self.rows.pop(change.key, None)
        return applied.state

    def pending(self, week, as_of):
        """What the store's per rep-week sorted sets of open due times answer."""
        out: dict[str, int] = defaultdict(int)
        for row in self.rows.values():
            if row.week == week and row.done_late_at is None and row.due > as_of:
                out[row.rep_id] += 1
        return out

    def report(self, week, as_of, reps, thresholds=c.Thresholds(), with_missing=True):
        return c.compliance_report(
            tenant_id="acme", week=week, as_of=as_of, tz=SHANGHAI, reps=reps, counts=self.counts[week],
            previous_counts=self.counts[week.previous()], pending=self.pending(week, as_of),
            drilldown=self.rows.values() if with_missing else None, thresholds=thresholds,
        )


BOB = c.RepInfo("bob", "Bob", "ann")
CAROL = c.RepInfo("carol", "Carol", "ann")
DAN = c.RepInfo("dan", "Dan", "dora")


def test_opening_registers_the_mandatory_actions_of_the_first_stage_with_due_times():
    applied = open_medical()
    assert [(e.action_id, e.due - MONDAY) for e in applied.state.expectations] == [
        ("first_contact_call", timedelta(hours=24)),
        ("hospital_profile", timedelta(hours=48)),
    ]
    counts = [ch for ch in applied.changes if isinstance(ch, x.Count)]
    assert {(ch.metric, str(ch.week)) for ch in counts} == {("due", "2026-W10")}
    assert len(counts) == 2
    assert any(isinstance(ch, x.FollowUpCount) and ch.metric == x.ASSIGNED for ch in applied.changes)


def test_a_valid_action_before_its_due_time_is_done_on_time_and_leaves_the_drill_down():
    agg = Aggregates()
    state = agg.apply(open_medical())
    state = agg.apply(x.action_recorded(state, action_id="a1", template_action_id="first_contact_call", valid=True,
                                        at=MONDAY + timedelta(hours=2), tz=SHANGHAI))
    assert agg.counts[Week(2026, 10)]["bob"] == {"due": 2, "submitted": 1, "submitted_valid": 1, "done_on_time": 1}
    assert [r.action_id for r in agg.rows.values()] == ["hospital_profile"]
    assert state.last_valid_action_at == MONDAY + timedelta(hours=2)


def test_a_late_action_counts_as_missing_for_its_week_and_says_when_it_was_done():
    agg = Aggregates()
    state = agg.apply(open_medical())
    late = MONDAY + timedelta(hours=30)
    agg.apply(x.action_recorded(state, action_id="a1", template_action_id="first_contact_call", valid=True, at=late, tz=SHANGHAI))
    report = agg.report(Week(2026, 10), MONDAY + timedelta(days=3), [BOB])
    (bob,) = report.reps
    assert bob.line.tally.done_late == 1 and bob.line.tally.done_on_time == 0
    assert bob.line.rate == 0.0 and bob.line.status is c.Status.RED
    assert {(m.action_id, m.done_late_at) for m in bob.missing_actions} == {("first_contact_call", late), ("hospital_profile", None)}


def test_invalid_and_repeated_submissions_count_for_quality_only_and_only_once():
    agg = Aggregates()
    state = agg.apply(open_medical())
    invalid = x.action_recorded(state, action_id="a1", template_action_id="first_contact_call", valid=False,
                                at=MONDAY + timedelta(hours=1), tz=SHANGHAI)
    state = agg.apply(invalid)
    assert invalid.state.open_expectations == state.open_expectations
    assert x.action_recorded(state, action_id="a1", template_action_id="first_contact_call", valid=True,
                             at=MONDAY + timedelta(hours=2), tz=SHANGHAI).changes == ()
    assert agg.counts[Week(2026, 10)]["bob"]["submitted"] == 1
    assert agg.counts[Week(2026, 10)]["bob"]["submitted_valid"] == 0
    assert state.last_valid_action_at is None


def test_leaving_a_stage_withdraws_what_was_not_due_yet_and_keeps_overdue_ones_missing():
    agg = Aggregates()
    state = agg.apply(open_medical())
    at = MONDAY + timedelta(hours=30)  # first_contact_call (24 h) overdue, hospital_profile (48 h) not yet due
    state = agg.apply(x.stage_changed(state, from_stage="lead", to_stage="qualification",
                                      to_stage_spec=MEDICAL.stage("qualification"), at=at, stall_threshold=STALL, tz=SHANGHAI))
    counts = agg.counts[Week(2026, 10)]["bob"]
    assert counts["withdrawn"] == 1
    assert "hospital_profile" not in {r.action_id for r in agg.rows.values()}
    assert "first_contact_call" in {r.action_id for r in agg.rows.values()}
    assert [e.action_id for e in state.expectations] == ["department_visit", "budget_and_procurement", "decision_chain"]
    assert state.advanced_at == at


def test_a_stale_or_repeated_stage_change_changes_nothing():
    state = open_medical().state
    stale = x.stage_changed(state, from_stage="qualification", to_stage="needs_diagnosis",
                            to_stage_spec=MEDICAL.stage("needs_diagnosis"), at=MONDAY, stall_threshold=STALL, tz=SHANGHAI)
    assert stale == x.Applied(state)


def test_closing_clears_expectations_and_a_loss_is_never_an_advance():
    state = open_medical().state
    lost = x.stage_changed(state, from_stage="lead", to_stage="closed_lost", to_stage_spec=MEDICAL.stage("closed_lost"),
                           at=MONDAY + timedelta(hours=1), stall_threshold=STALL, tz=SHANGHAI)
    assert lost.state.expectations == () and lost.state.advanced_at is None
    assert not any(isinstance(ch, x.FollowUpCount) for ch in lost.changes)
    assert lost.state.stall_deadline is None


def test_a_stage_spec_that_does_not_match_the_stage_is_refused():
    with pytest.raises(InvalidCommand, match="template stage"):
        x.opened(tenant_id="acme", opportunity_id="o", name="n", owner_id="bob", amount_cents=1, currency="CNY",
                 template=MEDICAL.ref, stage="lead", stage_spec=MEDICAL.stage("qualification"), at=MONDAY,
                 stall_threshold=STALL, tz=SHANGHAI)


@pytest.mark.parametrize(
    "kwargs, field",
    [({"at": datetime(2026, 3, 2)}, "at"), ({"owner": ""}, "owner_id")],
)
def test_opening_rejects_bad_input(kwargs, field):
    with pytest.raises(InvalidCommand) as exc:
        open_medical(**kwargs)
    assert exc.value.field == field


def test_recording_needs_an_action_id():
    with pytest.raises(InvalidCommand):
        x.action_recorded(open_medical().state, action_id="", template_action_id="x", valid=True, at=MONDAY, tz=SHANGHAI)


def test_report_rates_statuses_teams_trend_and_drill_down():
    agg = Aggregates()
    previous_monday = MONDAY - timedelta(days=7)
    # Previous week: bob did 1 of 2 on time.
    state = agg.apply(open_medical(at=previous_monday, opp="old"))
    agg.apply(x.action_recorded(state, action_id="p1", template_action_id="first_contact_call", valid=True,
                                at=previous_monday + timedelta(hours=1), tz=SHANGHAI))
    # This week: bob does both on time, carol none, dan has nothing due.
    state = agg.apply(open_medical(opp="b1"))
    for i, action in enumerate(("first_contact_call", "hospital_profile")):
        state = agg.apply(x.action_recorded(state, action_id=f"b{i}", template_action_id=action, valid=True,
                                            at=MONDAY + timedelta(hours=1 + i), tz=SHANGHAI))
        # A redelivered submission changes nothing.
        assert x.action_recorded(state, action_id=f"b{i}", template_action_id=action, valid=True,
                                 at=MONDAY + timedelta(hours=1 + i), tz=SHANGHAI).changes == ()
    agg.apply(open_medical(opp="c1", owner="carol"))
    report = agg.report(Week(2026, 10), MONDAY + timedelta(days=6), [BOB, CAROL, DAN])
    by_rep = {r.rep.rep_id: r for r in report.reps}
    assert by_rep["bob"].line.rate == 1.0 and by_rep["bob"].line.status is c.Status.GREEN
    assert by_rep["bob"].line.previous_rate == 0.5
    assert by_rep["bob"].line.trend is c.Trend.UP and by_rep["bob"].line.trend_points == 50.0
    assert by_rep["carol"].line.status is c.Status.RED and len(by_rep["carol"].missing_actions) == 2
    assert by_rep["carol"].line.trend is c.Trend.NONE
    assert by_rep["dan"].line.status is c.Status.NO_DATA and by_rep["dan"].line.rate is None
    teams = {t.team_id: t for t in report.teams}
    assert teams["ann"].line.tally.counted == 4 and teams["ann"].line.rate == 0.5
    assert teams["ann"].line.status is c.Status.RED
    assert teams["dora"].line.status is c.Status.NO_DATA
    assert report.total.rate == 0.5 and report.complete
    data = c.report_to_dict(report)
    assert data["week"] == "2026-W10" and data["teams"][0]["completion_rate_percent"] == 50.0
    rows = c.report_rows(report)
    assert rows[0][0] == "total" and all(len(r) == len(c.TABLE_COLUMNS) for r in rows)
    assert sum(1 for r in rows if r[0] == "missing_action") == 2


def test_in_a_running_week_actions_not_yet_due_are_pending_not_missing():
    agg = Aggregates()
    agg.apply(open_medical())
    report = agg.report(Week(2026, 10), MONDAY + timedelta(hours=30), [BOB])
    tally = report.reps[0].line.tally
    assert (tally.due, tally.pending, tally.counted, tally.missing) == (2, 1, 1, 1)
    assert not report.complete
    assert [m.action_id for m in report.reps[0].missing_actions] == ["first_contact_call"]


def test_a_summary_report_has_the_same_figures_without_the_missing_actions():
    agg = Aggregates()
    agg.apply(open_medical())
    agg.apply(open_medical(opp="c1", owner="carol"))
    as_of = MONDAY + timedelta(hours=30)
    full = agg.report(Week(2026, 10), as_of, [BOB, CAROL])
    summary = agg.report(Week(2026, 10), as_of, [BOB, CAROL], with_missing=False)
    assert [r.line for r in summary.reps] == [r.line for r in full.reps] and summary.total == full.total
    assert all(r.missing_actions == () for r in summary.reps)
    data = c.report_to_dict(summary)
    assert data["missing_actions_included"] is False and "missing_actions" not in data["reps"][0]
    assert c.report_to_dict(full)["missing_actions_included"] is True
    assert not [r for r in c.report_rows(summary) if r[0] == "missing_action"]


def test_thresholds_are_configurable_and_checked():
    assert c.Thresholds(green=0.9, yellow=0.5).status(0.85) is c.Status.YELLOW
    assert c.Thresholds().status(0.85) is c.Status.GREEN
    assert c.Thresholds().status(0.6999) is c.Status.RED
    for bad in ({"green": 1.2}, {"green": 0.5, "yellow": 0.6}, {"yellow": True}, {"green": "85"}):
        with pytest.raises(InvalidCommand):
            c.Thresholds(**bad)


def test_a_report_for_a_week_not_started_is_refused():
    with pytest.raises(InvalidCommand, match="not started"):
        Aggregates().report(Week(2026, 11), MONDAY, [BOB])
    with pytest.raises(InvalidCommand, match="timezone-aware"):
        Aggregates().report(Week(2026, 10), datetime(2026, 3, 3), [BOB])


def test_weeks_parse_and_bound_in_local_time():
    week = Week.parse("2026-W10")
    assert week.start(SHANGHAI) == datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    assert week.end(SHANGHAI) - week.start(SHANGHAI) == timedelta(days=7)
    assert str(week.previous()) == "2026-W09" and str(Week(2026, 53 - 1).next()) == "2026-W53"
    assert Week.parse("2027-W01").previous() == Week(2026, 53)
    for bad in ("2026-10", "2026-W54", "W10", "", None):
        with pytest.raises(InvalidCommand):
            Week.parse(bad)
    with pytest.raises(InvalidCommand):
        zone("Mars/Olympus")


def test_scheduled_runs_fall_at_local_times():
    at_8 = time(8, 0)
    sunday_late = datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc)  # Sunday 23:59 Shanghai, in W09
    assert due_weekly_run(sunday_late, 1, at_8, SHANGHAI) == Week(2026, 8)
    monday_759 = datetime(2026, 3, 1, 23, 59, tzinfo=timezone.utc)  # Monday 07:59 of W10
    assert due_weekly_run(monday_759, 1, at_8, SHANGHAI) == Week(2026, 8)
    assert due_weekly_run(monday_759 + timedelta(minutes=1), 1, at_8, SHANGHAI) == Week(2026, 9)
    assert due_daily_run(monday_759, at_8, SHANGHAI) is None
    assert due_daily_run(monday_759 + timedelta(minutes=1), at_8, SHANGHAI) == date(2026, 3, 2)
    with pytest.raises(InvalidCommand):
        due_weekly_run(monday_759, 0, at_8, SHANGHAI)

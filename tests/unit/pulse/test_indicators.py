import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.pulse.domain.events import (
    CustomerChanged,
    ForecastGraded,
    ForeignTenant,
    InvalidEvent,
    LeadAssigned,
    LeadResponded,
    StageAdvanced,
)
from services.pulse.domain.indicators import (
    CustomerDataCompleteness,
    EffectiveVisitsIndicator,
    EventRef,
    ForecastCredibilityIndicator,
    HealthState,
    LeadResponseIndicator,
    StageProgressionIndicator,
    classify_share,
    nearest_rank,
)
from services.pulse.domain.thresholds import PulseThresholds
from services.pulse.domain.visits import VisitVerdict
from services.pulse.domain.windows import Admission, WeekWindows

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tue 10:00 Shanghai
DAY = "2026-11-24"
G, Y, R, N = HealthState.GREEN, HealthState.YELLOW, HealthState.RED, HealthState.NO_DATA


@pytest.mark.parametrize(
    "num, den, healthy, state",
    [
        (92, 100, 0.92, G),
        (919, 1000, 0.92, Y),
        (87, 100, 0.92, Y),
        (869, 1000, 0.92, R),
        (88, 100, 0.88, G),
        (879, 1000, 0.88, Y),
        (83, 100, 0.88, Y),
        (829, 1000, 0.88, R),
        (3, 4, 0.75, G),
        (749, 1000, 0.75, Y),
        (0, 0, 0.75, N),
    ],
)
def test_share_bands_at_the_boundaries(num, den, healthy, state):
    assert classify_share(num, den, healthy, 0.05) is state


def test_yellow_band_is_configuration():
    assert classify_share(91, 100, 0.92, 0.0) is R
    assert classify_share(80, 100, 0.92, 0.2) is Y


def test_nearest_rank():
    values = list(range(1, 11))
    assert nearest_rank(values, 0.5) == 5
    assert nearest_rank(values, 0.9) == 9
    assert nearest_rank([7], 0.9) == 7
    assert nearest_rank([], 0.5) is None


# ---- stage progression ---------------------------------------------------------------------
def stage_events(total, complete, start=T0, rep="r1"):
    return [
        StageAdvanced(f"s{i}", "t", f"o{i}", rep, "proposal", start + timedelta(seconds=i), i < complete)
        for i in range(total)
    ]


@pytest.mark.parametrize("total, complete, state", [(100, 92, G), (1000, 919, Y), (100, 87, Y), (1000, 869, R)])
def test_stage_progression_thresholds(total, complete, state):
    ind = StageProgressionIndicator("t", SH)
    for e in stage_events(total, complete):
        assert ind.apply(e) is Admission.ACCEPTED
    v = ind.value(DAY)
    assert v.state is state
    assert v.value == pytest.approx(complete / total)
    assert v.threshold == 0.92
    assert len(v.drill_down) == total


def test_stage_progression_drill_down_and_per_rep_and_duplicates():
    ind = StageProgressionIndicator("t", SH)
    e1 = StageAdvanced("s1", "t", "o1", "r1", "proposal", T0, True, from_stage="diagnosis")
    e2 = StageAdvanced("s2", "t", "o2", "r2", "proposal", T0 + timedelta(minutes=1), False)
    for e in (e2, e1, e1):
        ind.apply(e)
    team = ind.value(DAY)
    assert team.value == 0.5 and team.detail("stage_changes") == 2
    assert [d.events for d in team.drill_down] == [(EventRef(T0, "s1"),), (EventRef(e2.at, "s2"),)]
    assert team.drill_down[0].detail == "diagnosis → proposal by rep r1: all mandatory actions verified"
    assert ind.value(DAY, rep_id="r1").value == 1.0
    assert ind.value("2026-11-23").state is N
    assert ind.windows() == (DAY,)


def test_stage_progression_weekly_windows():
    ind = StageProgressionIndicator("t", SH, assigner=WeekWindows(SH))
    for e in stage_events(2, 2) + stage_events(2, 0, start=T0 + timedelta(days=1), rep="r2"):
        ind.apply(StageAdvanced(e.event_id + e.rep_id, **{k: getattr(e, k) for k in (
            "tenant_id", "opportunity_id", "rep_id", "to_stage", "at", "with_all_mandatory_verified")}))
    assert ind.value("2026-W48").value == 0.5


def test_too_late_stage_changes_are_listed_in_their_window():
    ind = StageProgressionIndicator("t", SH)
    ind.apply(stage_events(1, 1)[0])
    ind.apply(StageAdvanced("next", "t", "o9", "r1", "won", datetime(2026, 11, 25, 0, 10, tzinfo=SH), True))
    late = StageAdvanced("late", "t", "o8", "r1", "won", datetime(2026, 11, 24, 23, 0, tzinfo=SH), False)
    assert ind.apply(late) is Admission.TOO_LATE
    v = ind.value(DAY)
    assert v.value == 1.0
    assert [e.event_id for e in v.too_late] == ["late"]


# ---- lead response ---------------------------------------------------------------------------
def lead(ind, n, minutes, rep="r1", start=T0):
    a = LeadAssigned(f"a{n}", "t", f"L{n}", rep, start + timedelta(minutes=n))
    ind.apply(a)
    if minutes is not None:
        ind.apply(LeadResponded(f"r{n}", "t", f"L{n}", rep, a.at + timedelta(minutes=minutes)))


def test_lead_response_percentiles_share_and_drill_down():
    ind = LeadResponseIndicator("t", SH)
    for n, m in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 16]):
        lead(ind, n, m)
    v = ind.value(DAY)
    assert v.detail("p50_minutes") == 5.0
    assert v.detail("p90_minutes") == 9.0
    assert v.detail("within_limit") == 9 and v.value == 0.9
    assert v.state is G  # default healthy share 90 %
    assert v.drill_down[9].subject == "lead L9"
    assert v.drill_down[9].detail == "assigned to rep r1; answered by rep r1 in 16 min (over the 15 min limit)"
    assert v.drill_down[9].events == (
        EventRef(T0 + timedelta(minutes=9), "a9"),
        EventRef(T0 + timedelta(minutes=25), "r9"),
    )


@pytest.mark.parametrize("answer_after, within", [(timedelta(minutes=15), 1), (timedelta(minutes=15, seconds=1), 0)])
def test_lead_response_limit_is_inclusive(answer_after, within):
    ind = LeadResponseIndicator("t", SH)
    ind.apply(LeadAssigned("a", "t", "L", "r1", T0))
    ind.apply(LeadResponded("r", "t", "L", "r1", T0 + answer_after))
    assert ind.value(DAY).detail("within_limit") == within


def test_lead_response_states():
    def share(within, total):
        ind = LeadResponseIndicator("t", SH)
        for n in range(total):
            lead(ind, n, 5 if n < within else 20)
        return ind.value(DAY).state

    assert share(90, 100) is G
    assert share(89, 100) is Y
    assert share(85, 100) is Y
    assert share(84, 100) is R


def test_unanswered_lead_is_pending_then_overdue_and_response_order_does_not_matter():
    ind = LeadResponseIndicator("t", SH)
    ind.apply(LeadResponded("r2", "t", "L2", "r1", T0 + timedelta(minutes=3)))  # response before assignment
    ind.apply(LeadAssigned("a2", "t", "L2", "r1", T0))
    ind.apply(LeadAssigned("a1", "t", "L1", "r2", T0))
    v = ind.value(DAY)
    assert v.detail("pending") == 1 and v.detail("answered") == 1 and v.value == 1.0
    ind.apply(LeadAssigned("a3", "t", "L3", "r1", T0 + timedelta(minutes=15)))  # watermark reaches the limit
    v = ind.value(DAY)
    assert v.detail("overdue_unanswered") == 1 and v.value == 0.5
    assert v.drill_down[0].detail == "assigned to rep r2; unanswered after the 15 min limit"
    assert ind.value(DAY, rep_id="r1").value == 1.0
    assert ind.value(DAY, rep_id="r2").value == 0.0


def test_a_lead_becoming_overdue_is_reported_once_for_its_window_and_rep():
    """Its value changes with no event of its own: the watermark passing its limit does it."""
    ind = LeadResponseIndicator("t", SH)
    ind.apply(LeadAssigned("a1", "t", "L1", "r2", T0))
    ind.apply(LeadAssigned("a2", "t", "L2", "r1", T0 + timedelta(minutes=1)))
    ind.apply(LeadResponded("r2", "t", "L2", "r1", T0 + timedelta(minutes=3)))
    assert ind.newly_overdue() == []
    ind.apply(LeadAssigned("a3", "t", "L3", "r1", T0 + timedelta(minutes=20)))
    assert ind.newly_overdue() == [(DAY, "r2")]  # L2 was answered, L3 is not due yet
    assert ind.newly_overdue() == []
    # A lead re-dated by an earlier assignment arriving late is due by its first assignment.
    ind.apply(LeadAssigned("a4", "t", "L4", "r1", T0 + timedelta(minutes=30)))
    ind.apply(LeadAssigned("a4-early", "t", "L4", "r1", T0 + timedelta(minutes=10)))
    assert ind.newly_overdue() == [(DAY, "r1")]


def test_reassigned_lead_keeps_its_first_assignment_clock():
    ind = LeadResponseIndicator("t", SH)
    ind.apply(LeadAssigned("a1", "t", "L", "r1", T0))
    ind.apply(LeadAssigned("a2", "t", "L", "r2", T0 + timedelta(minutes=10)))
    ind.apply(LeadResponded("r", "t", "L", "r2", T0 + timedelta(minutes=20)))
    v = ind.value(DAY)
    assert v.detail("p50_minutes") == 20.0 and v.value == 0.0
    assert [e.event_id for e in v.drill_down[0].events] == ["a1", "a2", "r"]


def test_lead_limit_is_configuration():
    ind = LeadResponseIndicator("t", SH, PulseThresholds(lead_response_limit=timedelta(minutes=30)))
    lead(ind, 0, 20)
    assert ind.value(DAY).value == 1.0


# ---- forecast ------------------------------------------------------------------------------------
def grade(eid, opp, g, minutes=0, rep="r1"):
    return ForecastGraded(eid, "t", opp, rep, g, T0 + timedelta(minutes=minutes))


@pytest.mark.parametrize("ab, total, state", [(75, 100, G), (749, 1000, Y), (70, 100, Y), (699, 1000, R)])
def test_forecast_ab_thresholds(ab, total, state):
    ind = ForecastCredibilityIndicator("t", SH)
    for i in range(total):
        ind.apply(grade(f"g{i}", f"o{i}", "A" if i < ab else "C", minutes=i % 600))
    assert ind.value(DAY).state is state


def test_forecast_latest_grade_per_opportunity_counts():
    ind = ForecastCredibilityIndicator("t", SH)
    for e in (grade("g2", "o1", "D", 5), grade("g1", "o1", "B", 1), grade("g3", "o2", "A", 2)):
        ind.apply(e)
    v = ind.value(DAY)
    assert v.value == 0.5 and v.detail("graded_opportunities") == 2
    assert v.drill_down[0].detail == "grade D (latest of 2), rep r1"
    assert [e.event_id for e in v.drill_down[0].events] == ["g1", "g2"]
    with pytest.raises(InvalidEvent):
        grade("x", "o1", "E")


# ---- customer data ----------------------------------------------------------------------------------
TH = PulseThresholds(required_customer_fields=("name", "phone", "address", "industry"))


def cust(eid, customer, minutes, **fields):
    return CustomerChanged(eid, "t", customer, T0 + timedelta(minutes=minutes), fields)


def test_customer_missing_fields_are_flagged_the_moment_data_changes():
    ind = CustomerDataCompleteness("t", TH)
    u = ind.apply(cust("e1", "c1", 0, name="ACME", phone=""))
    assert u.flagged and u.missing == ("phone", "address", "industry")
    assert u.newly_missing == ("phone", "address", "industry")
    u = ind.apply(cust("e2", "c1", 1, phone="123", address="1 Rd", industry="mfg"))
    assert not u.flagged and u.newly_filled == ("phone", "address", "industry")
    u = ind.apply(cust("e3", "c1", 2, industry=None))
    assert u.missing == ("industry",) and u.newly_missing == ("industry",)
    assert ind.incomplete_customers() == {"c1": ("industry",)}


def test_customer_fields_are_last_writer_wins_by_event_time():
    a, b = cust("e1", "c1", 5, name="New"), cust("e2", "c1", 1, name="  ")
    for order in ((a, b), (b, a)):
        ind = CustomerDataCompleteness("t", TH)
        for e in order:
            ind.apply(e)
        assert ind.missing_fields("c1") == ("phone", "address", "industry")


def test_customer_completeness_value_thresholds_and_drill_down():
    th = PulseThresholds(required_customer_fields=tuple(f"f{i}" for i in range(25)))
    ind = CustomerDataCompleteness("t", th)
    # 4 customers x 25 fields = 100 fields; 88 filled -> green
    for c in range(4):
        filled = 22
        ind.apply(cust(f"e{c}", f"c{c}", c, **{f"f{i}": "x" for i in range(filled)}))
    v = ind.value()
    assert v.value == 0.88 and v.state is G and v.threshold == 0.88
    assert v.detail("complete_customers") == 0
    assert v.drill_down[0].detail == "missing: f22, f23, f24"
    assert v.drill_down[0].events == (EventRef(T0, "e0"),)
    ind.apply(cust("x", "c0", 9, f0=None))  # 87 / 100 -> yellow
    assert ind.value().state is Y
    for c, f in ((1, "f0"), (2, "f0"), (3, "f0"), (1, "f1")):  # 83 / 100 -> yellow, 82 -> red
        ind.apply(cust(f"y{c}{f}", f"c{c}", 9, **{f: ""}))
    assert ind.value().value == 0.83 and ind.value().state is Y
    ind.apply(cust("z", "c2", 10, f1=None))
    assert ind.value().state is R


def test_required_fields_are_configuration_and_duplicates_ignored():
    ind = CustomerDataCompleteness("t", PulseThresholds(required_customer_fields=("name",)))
    assert ind.apply(cust("e1", "c1", 0, name="ACME")).missing == ()
    assert ind.apply(cust("e1", "c1", 0, name="ACME")).admission is Admission.DUPLICATE
    assert ind.value().value == 1.0 and ind.value().state is G
    assert CustomerDataCompleteness("t").value().state is N


# ---- effective visits per rep per day -----------------------------------------------------------------
def verdict(vid, rep, day, effective=True, hour=10):
    at = datetime(day.year, day.month, day.day, hour, 0, tzinfo=SH)
    return VisitVerdict(vid, "t", rep, "c1", "o1", at, at + timedelta(minutes=30), "check_out",
                        timedelta(minutes=30), 10.0, effective, True, (), (vid, "co-" + vid))


MON, TUE, WED, THU, FRI = (date(2026, 11, d) for d in (23, 24, 25, 26, 27))
SAT, SUN, NEXT_MON = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)


def visits(counts: dict, rep="r1", ind=None):
    ind = ind or EffectiveVisitsIndicator("t", SH)
    for day, n in counts.items():
        for i in range(n):
            ind.apply(verdict(f"{rep}-{day}-{i}", rep, day))
    return ind


def test_three_consecutive_low_days_turn_yellow():
    ind = visits({MON: 1, TUE: 0, WED: 1})
    v = ind.value("r1", WED)
    assert v.state is Y and v.value == 1.0
    assert v.detail("days_evaluated") == (("2026-11-25", 1), ("2026-11-24", 0), ("2026-11-23", 1))
    # Tuesday's streak reaches back to Friday, before the first verdict: not enough history.
    assert ind.value("r1", TUE).state is G
    assert EffectiveVisitsIndicator("t", SH, history_start=date(2026, 11, 1)).value("r1", TUE).state is Y


def test_two_low_days_or_one_good_day_stay_green():
    ind = visits({MON: 2, TUE: 1, WED: 1})
    assert ind.value("r1", WED).state is G
    assert visits({MON: 1, TUE: 2, WED: 1}).value("r1", WED).state is G
    assert visits({MON: 1, TUE: 1, WED: 2}).value("r1", WED).state is G


def test_weekends_are_skipped_and_do_not_break_a_streak():
    ind = visits({THU: 1, FRI: 0, NEXT_MON: 1})
    assert ind.value("r1", NEXT_MON).state is Y
    assert [d for d, _ in ind.value("r1", NEXT_MON).detail("days_evaluated")] == [
        "2026-11-30", "2026-11-27", "2026-11-26"]
    weekend_work = visits({THU: 1, FRI: 0, SAT: 5, NEXT_MON: 1})
    assert weekend_work.value("r1", NEXT_MON).state is Y  # Saturday is not a working day by default
    th = PulseThresholds(working_weekdays=frozenset(range(7)))
    ind7 = visits({THU: 1, FRI: 0, SAT: 5, NEXT_MON: 1}, ind=EffectiveVisitsIndicator("t", SH, th))
    assert ind7.value("r1", NEXT_MON).state is G


def test_only_effective_visits_count_and_revisions_replace():
    ind = visits({MON: 2, TUE: 2, WED: 2})
    ind.apply(verdict("r1-2026-11-25-0", "r1", WED, effective=False))
    assert ind.value("r1", WED).value == 1.0
    assert ind.value("r1", WED).state is G  # Mon and Tue had 2


@pytest.mark.parametrize("counts", [{MON: 1, TUE: 0, WED: 1}, {MON: 2, TUE: 1, WED: 1}, {THU: 1, FRI: 0, NEXT_MON: 1},
                                    {WED: 3}, {}])
def test_headline_is_the_value_and_state_of_the_full_indicator(counts):
    ind = visits(counts)
    if counts:
        ind.apply(verdict("r1-not", "r1", next(iter(counts)), effective=False))
    for day in (MON, TUE, WED, THU, FRI, SAT, NEXT_MON):
        for rep in ("r1", "nobody"):
            full = ind.value(rep, day)
            assert ind.headline(rep, day) == (full.value, full.state)
            assert ind.summary(rep, day) == replace(full, drill_down=())


def test_visit_day_is_the_tenant_local_day():
    ind = EffectiveVisitsIndicator("t", SH)
    late_evening_utc = VisitVerdict("v", "t", "r1", "c", "o", datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc),
                                    None, "check_out", None, None, True, True, (), ("v",))
    ind.apply(late_evening_utc)
    assert ind.value("r1", WED).value == 1.0  # 01:00 on the 25th in Shanghai


def test_a_changed_day_names_the_later_days_whose_streak_reads_it():
    ind = visits({MON: 1, TUE: 1, WED: 1, THU: 1, FRI: 1})
    assert ind.value("r1", THU).state is Y
    # Tuesday gains a second effective visit: Tuesday, and Wednesday and Thursday (whose
    # three-day streaks include Tuesday) may read differently; Friday's streak starts Wednesday.
    assert ind.apply(verdict("late", "r1", TUE, hour=15)) == (TUE, WED, THU)
    assert ind.value("r1", THU).state is G and ind.value("r1", FRI).state is Y
    # A revision that only decides or adds evidence changes no day.
    assert ind.apply(replace(verdict("late", "r1", TUE, hour=15), evidence_event_ids=("late",))) == ()
    # Saturday is in no streak, but its own reads the three working days before it; the
    # next Monday's reaches back over the weekend.
    assert visits({SAT: 1}, ind=ind).apply(verdict("sat2", "r1", SAT)) == (SAT,)
    assert visits({NEXT_MON: 1}, ind=ind).apply(verdict("fri2", "r1", FRI, hour=16)) == (FRI, SAT, NEXT_MON)


def test_the_history_start_is_the_reps_own_first_visit():
    """A rep's streak is unknown before the rep's first visit, whatever other reps did, so a
    worker holding only some of a tenant's reps computes the same states as one holding all."""
    ind = visits({MON: 2, TUE: 2, WED: 2}, rep="veteran")
    visits({WED: 1, THU: 1}, rep="new", ind=ind)
    alone = visits({WED: 1, THU: 1}, rep="new")
    for day in (WED, THU):
        assert ind.value("new", day).state is alone.value("new", day).state is G
    assert visits({FRI: 1}, rep="new", ind=ind).value("new", FRI).state is Y
    # A late visit on Monday moves the rep's start: Monday and the days whose streak reached
    # before Wednesday (Wednesday, Thursday) may read differently now.
    assert set(ind.apply(verdict("new-mon", "new", MON))) == {MON, WED, THU}
    assert ind.value("new", WED).state is Y


def test_visit_drill_down_and_team_value():
    ind = visits({MON: 1, TUE: 1, WED: 1})
    visits({MON: 2, TUE: 2, WED: 3}, rep="r2", ind=ind)
    v = ind.value("r1", WED)
    assert v.drill_down[0].subject == "rep r1 on 2026-11-25"
    assert v.drill_down[0].events == (EventRef(datetime(2026, 11, 25, 10, tzinfo=SH), "r1-2026-11-25-0"),)
    assert "evidence r1-2026-11-25-0, co-r1-2026-11-25-0" in v.drill_down[0].detail
    team = ind.team_value(WED, roster=["r3"])
    assert team.state is Y
    assert team.detail("yellow_reps") == ("r1", "r3")
    assert team.value == pytest.approx((1 + 3 + 0) / 3)


def test_indicators_refuse_other_tenants():
    with pytest.raises(ForeignTenant):
        StageProgressionIndicator("t", SH).apply(StageAdvanced("s", "u", "o", "r", "x", T0, True))
    with pytest.raises(ForeignTenant):
        CustomerDataCompleteness("t").apply(CustomerChanged("e", "u", "c", T0, {}))
    with pytest.raises(ForeignTenant):
        EffectiveVisitsIndicator("t", SH).apply(verdict("v", "r", MON).__class__(
            *[getattr(verdict("v", "r", MON), f) if f != "tenant_id" else "u"
              for f in VisitVerdict.__dataclass_fields__]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_effective_visit_counts_equal_a_recount_through_random_revisions(seed):
    """The per rep/day counts `headline` reads are kept as verdicts arrive and are revised
    (effective ↔ not, revised while effective); they must equal a recount of the verdicts."""
    rnd = random.Random(seed)
    ind = EffectiveVisitsIndicator("t", SH)
    days = (MON, TUE, WED, THU, FRI)
    for step in range(600):
        vid = f"v{rnd.randrange(40)}"  # a visit keeps its rep and day; its verdict is revised
        n = int(vid[1:])
        revision = verdict(vid, f"r{n % 3}", days[n % 5], effective=rnd.random() < 0.6)
        ind.apply(replace(revision, evidence_event_ids=(vid, f"co-{step}")))
        for rep in ("r0", "r1", "r2"):
            for day in days:
                full = ind.value(rep, day)
                assert ind.headline(rep, day) == (full.value, full.state)

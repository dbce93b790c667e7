from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    ForeignTenant,
    GeoPoint,
    InvalidEvent,
    RepActivity,
    RequirementNoted,
)
from services.pulse.domain.thresholds import InvalidThresholds, PulseThresholds
from services.pulse.domain.visits import VisitTracker, haversine_m
from services.pulse.domain.windows import Admission

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # 10:00 Shanghai, a Tuesday
SITE = GeoPoint(31.2304, 121.4737)


def north(metres: float) -> GeoPoint:
    return GeoPoint(SITE.lat + metres / 111_195.0, SITE.lon)


def located(eid="loc-1", customer="c1", at=T0 - timedelta(days=30)):
    return CustomerChanged(eid, "t", customer, at, {"address": "1 Nanjing Rd"}, location=SITE)


def checkin(eid="ci-1", at=T0, pos=None, rep="r1", customer="c1", opp="o1"):
    return CheckIn(eid, "t", rep, customer, at, pos or north(50), opportunity_id=opp)


def checkout(eid="co-1", minutes=30, rep="r1", customer="c1", checkin_id="", start=T0):
    return CheckOut(eid, "t", rep, start + timedelta(minutes=minutes), customer_id=customer, checkin_id=checkin_id)


def note(eid="n-1", minutes=10, opp="o1", customer="c1", start=T0):
    return RequirementNoted(eid, "t", opp, customer, start + timedelta(minutes=minutes), rep_id="r1")


def tracker(*events, thresholds=PulseThresholds()):
    t = VisitTracker("t", SH, thresholds)
    for e in events:
        t.apply(e)
    return t


def test_haversine_known_distance():
    # One degree of latitude is ~111.2 km on the mean sphere.
    assert haversine_m(GeoPoint(0, 0), GeoPoint(1, 0)) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(SITE, SITE) == 0
    assert haversine_m(SITE, north(150)) == pytest.approx(150, abs=0.5)


def test_effective_visit_has_no_reasons_and_cites_its_evidence():
    t = tracker(located(), checkin(), note(), checkout())
    v = t.verdict("ci-1")
    assert v.effective and v.decided
    assert v.reasons == ()
    assert v.evidence_event_ids == ("ci-1", "loc-1", "co-1", "n-1")
    assert v.on_site == timedelta(minutes=30)
    assert v.ended_by == "check_out"
    assert v.distance_m == pytest.approx(50, abs=0.5)


@pytest.mark.parametrize("metres, inside", [(199, True), (201, False), (5000, False)])
def test_geofence(metres, inside):
    v = tracker(located(), checkin(pos=north(metres)), note(), checkout()).verdict("ci-1")
    assert v.effective is inside
    if not inside:
        assert v.reasons == (
            f"checked in {metres} m from the customer's address; an effective visit checks in within 200 m",
        )


def test_geofence_radius_is_configuration():
    th = PulseThresholds(geofence_radius_m=500)
    assert tracker(located(), checkin(pos=north(400)), note(), checkout(), thresholds=th).verdict("ci-1").effective


def test_customer_without_location_is_not_effective():
    v = tracker(checkin(), note(), checkout()).verdict("ci-1")
    assert not v.effective
    assert v.reasons == ("customer c1 has no geocoded address; the geofence cannot be checked",)


def test_location_in_force_at_check_in_time_is_used():
    moved = CustomerChanged("loc-2", "t", "c1", T0 + timedelta(hours=1), {}, location=north(5000))
    v = tracker(located(), moved, checkin(), note(), checkout()).verdict("ci-1")
    assert v.effective and "loc-1" in v.evidence_event_ids


@pytest.mark.parametrize(
    "minutes, effective, reason",
    [
        (18, False, "on site 18 min; an effective visit lasts more than 25 min"),
        (24, False, "on site 24 min; an effective visit lasts more than 25 min"),
        (25, False, "on site 25 min; an effective visit lasts more than 25 min"),
        (25 + 1 / 60, True, None),
        (26, True, None),
    ],
)
def test_duration_must_exceed_25_minutes(minutes, effective, reason):
    v = tracker(located(), checkin(), note(minutes=5), checkout(minutes=minutes)).verdict("ci-1")
    assert v.effective is effective
    if reason:
        assert v.reasons == (reason,)


def test_note_inside_and_outside_the_window():
    # window is [check-in, check-out + 60 min grace]
    inside = tracker(located(), checkin(), checkout(minutes=30), note(minutes=90)).verdict("ci-1")
    assert inside.effective
    before = tracker(located(), checkin(), checkout(minutes=30), note(minutes=-1)).verdict("ci-1")
    after = tracker(located(), checkin(), checkout(minutes=30), note(minutes=91)).verdict("ci-1")
    for v in (before, after):
        assert not v.effective
        assert v.reasons == (
            "no requirement note on opportunity o1 between 2026-11-24T10:00+08:00 and 2026-11-24T11:30+08:00",
        )


def test_note_on_another_opportunity_does_not_count():
    v = tracker(located(), checkin(), checkout(), note(opp="o2")).verdict("ci-1")
    assert not v.effective


def test_check_in_without_opportunity_matches_notes_on_the_customer():
    v = tracker(located(), checkin(opp=""), checkout(), note(opp="o9", customer="c1")).verdict("ci-1")
    assert v.effective


def test_missing_check_out_ends_at_the_next_activity():
    call = RepActivity("call-1", "t", "r1", T0 + timedelta(minutes=40), kind="call")
    v = tracker(located(), checkin(), note(), call).verdict("ci-1")
    assert v.effective
    assert v.ended_by == "next_activity" and v.on_site == timedelta(minutes=40)
    assert "call-1" in v.evidence_event_ids

    nxt = checkin("ci-2", at=T0 + timedelta(minutes=20), customer="c2", opp="o2")
    v = tracker(located(), checkin(), note(), nxt).verdict("ci-1")
    assert not v.effective
    assert v.reasons == ("on site 20 min; an effective visit lasts more than 25 min",)


def test_notes_do_not_end_a_visit_and_other_reps_do_not_end_it():
    other = RepActivity("x-1", "t", "r2", T0 + timedelta(minutes=5))
    t = tracker(located(), checkin(), note(minutes=5), other, checkout(minutes=30))
    v = t.verdict("ci-1")
    assert v.effective and v.on_site == timedelta(minutes=30)


def test_check_out_preferred_over_earlier_activity_and_linked_check_out_wins():
    call = RepActivity("call-1", "t", "r1", T0 + timedelta(minutes=5))
    v = tracker(located(), checkin(), note(), call, checkout(minutes=30)).verdict("ci-1")
    assert v.ended_by == "check_out" and v.on_site == timedelta(minutes=30)
    linked = checkout("co-9", minutes=40, checkin_id="ci-1")
    v = tracker(located(), checkin(), note(), checkout(minutes=30), linked).verdict("ci-1")
    assert v.evidence_event_ids[2] == "co-9" and v.on_site == timedelta(minutes=40)


def test_unlinked_check_out_after_the_next_check_in_belongs_to_the_next_visit():
    ci2 = checkin("ci-2", at=T0 + timedelta(minutes=20))
    co = checkout("co-1", minutes=60)
    t = tracker(located(), checkin(), ci2, co, note(minutes=30))
    assert t.verdict("ci-1").ended_by == "next_activity"
    assert t.verdict("ci-1").on_site == timedelta(minutes=20)
    assert t.verdict("ci-2").ended_by == "check_out"
    assert t.verdict("ci-2").on_site == timedelta(minutes=40)


def test_open_visit_is_pending_until_max_duration_then_decided():
    t = tracker(located(), checkin(), note())
    v = t.verdict("ci-1")
    assert not v.effective and not v.decided
    assert t.pending() == (v,)
    assert "no check-out and no later activity yet; time on site unknown" in v.reasons
    # Event time runs per rep: another rep's activity decides nothing about r1's visits ...
    assert t.apply(RepActivity("y", "t", "r2", T0 + timedelta(hours=12))).changed == ()
    # ... r1's own stream 12 h later (beyond max_visit_duration, so it does not end the visit)
    # moves r1's watermark: the visit is decided as not effective.
    update = t.apply(RepActivity("x", "t", "r1", T0 + timedelta(hours=12, minutes=1)))
    assert [c.visit_id for c in update.changed] == ["ci-1"]
    assert t.verdict("ci-1").decided and not t.verdict("ci-1").effective
    assert t.pending() == ()


def test_a_visit_whose_decision_point_moved_later_is_decided_only_there():
    """A call ends the visit (decided an hour after it), then a check-out ends it later: the
    rep passing the first decision point decides nothing; passing the second does."""
    def call(eid, minutes):
        return RepActivity(eid, "t", "r1", T0 + timedelta(minutes=minutes), kind="call")

    t = tracker(located(), checkin(), call("call-1", 20), checkout(minutes=50))
    assert t.verdict("ci-1").ended_at == T0 + timedelta(minutes=50)
    assert t.apply(call("call-2", 90)).changed == ()
    assert not t.verdict("ci-1").decided
    (decided,) = t.apply(call("call-3", 111)).changed
    # It is what judging the visit afresh gives: all events admitted, then one settle.
    afresh = VisitTracker("t", SH)
    for event in (located(), checkin(), call("call-1", 20), checkout(minutes=50), call("call-2", 90), call("call-3", 111)):
        afresh.admit(event)
    afresh.settle()
    assert decided.decided and decided == afresh.verdict("ci-1")


def test_next_activity_beyond_max_duration_does_not_end_the_visit():
    late = RepActivity("call-1", "t", "r1", T0 + timedelta(hours=13))
    v = tracker(located(), checkin(), note(), late).verdict("ci-1")
    assert not v.effective
    assert v.reasons[0].startswith("no check-out, and the next activity came 780 min later")


def test_all_failed_criteria_are_listed():
    v = tracker(located(), checkin(pos=north(300)), checkout(minutes=10)).verdict("ci-1")
    assert len(v.reasons) == 3
    assert v.reasons[1] == "on site 10 min; an effective visit lasts more than 25 min"
    assert v.reasons[2].startswith("no requirement note on opportunity o1")


def test_out_of_order_arrival_gives_the_same_verdicts_and_revisions_are_reported():
    events = [located(), checkin(), note(), checkout(minutes=30)]
    in_order = tracker(*events).verdicts()
    t = VisitTracker("t", SH)
    assert t.apply(events[3]).changed == ()  # a check-out alone: no visit yet
    first = t.apply(events[1]).changed  # check-in: pending, no location, no note
    assert len(first) == 1 and not first[0].effective
    t.apply(events[2])
    last = t.apply(events[0]).changed
    assert len(last) == 1 and last[0].effective
    assert t.verdicts() == in_order


def test_duplicates_are_counted_once():
    t = tracker(located(), checkin(), note(), checkout())
    assert t.apply(checkout()).admission is Admission.DUPLICATE
    assert t.apply(checkin()).changed == ()
    assert len(t.verdicts()) == 1


def test_too_late_events_are_kept_not_counted():
    t = tracker(located(), checkin())
    # r1's watermark moves to the next day, past midnight + 10 min allowance (Shanghai)
    t.apply(RepActivity("x", "t", "r1", datetime(2026, 11, 25, 0, 0, tzinfo=SH) + timedelta(minutes=10)))
    late = checkout(minutes=30)
    assert t.apply(late).admission is Admission.TOO_LATE
    assert t.verdict("ci-1").ended_by == "none"  # x came more than max_visit_duration later
    assert [e.event_id for e in t.too_late] == ["co-1"]
    assert t.too_late[0].window_key == "2026-11-24"


def test_late_event_within_allowance_is_counted():
    t = tracker(located(), checkin(), note())
    t.apply(RepActivity("x", "t", "r1", datetime(2026, 11, 25, 0, 9, tzinfo=SH)))
    # 23:59 local the day before, 10 minutes behind the watermark: window still open
    co = CheckOut("co-1", "t", "r1", datetime(2026, 11, 24, 23, 59, tzinfo=SH), customer_id="c1")
    assert t.apply(co).admission is Admission.ACCEPTED


def test_tenants_are_walls_and_bad_events_are_rejected():
    t = VisitTracker("t", SH)
    with pytest.raises(ForeignTenant):
        t.apply(CheckIn("e", "other", "r1", "c1", T0, SITE))
    with pytest.raises(InvalidEvent):
        CheckIn("e", "t", "r1", "c1", datetime(2026, 1, 1), SITE)
    with pytest.raises(InvalidEvent):
        GeoPoint(91, 0)
    with pytest.raises(InvalidThresholds):
        PulseThresholds(geofence_radius_m=0)


def test_a_verdict_is_a_frozen_value_built_from_its_fields():
    import dataclasses

    from services.pulse.domain.visits import VisitVerdict

    values = dict(visit_id="v", tenant_id="t", rep_id="r", customer_id="c", opportunity_id="o", started_at=T0,
                  ended_at=None, ended_by="none", on_site=None, distance_m=None, effective=False, decided=False,
                  reasons=("why",), evidence_event_ids=("v",))
    verdict = VisitVerdict(**values)
    assert dataclasses.asdict(verdict) == values
    assert verdict == VisitVerdict(*values.values()) and hash(verdict) == hash(VisitVerdict(**values))
    assert dataclasses.replace(verdict, effective=True) != verdict
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.effective = True  # type: ignore[misc]


def test_a_reps_own_note_counts_only_for_that_reps_visits_a_shared_one_for_anyone():
    """A note filed as an activity travels on its rep's partition: counting it for another
    rep's visit would make that verdict depend on which worker holds both reps."""
    colleague = RequirementNoted("n-r2", "t", "o1", "c1", T0 + timedelta(minutes=10), rep_id="r2")
    t = tracker(located(), checkin(), colleague, checkout())
    (v,) = t.verdicts()
    assert not v.effective and any("no requirement note on opportunity o1" in r for r in v.reasons)
    shared = RequirementNoted("n-crm", "t", "o1", "c1", T0 + timedelta(minutes=12), rep_id="r2", shared=True)
    assert [u.effective for u in t.apply(shared).changed] == [True]
    assert "n-crm" in t.verdict("ci-1").evidence_event_ids and "n-r2" not in t.verdict("ci-1").evidence_event_ids


def test_a_shared_note_is_never_too_late_however_far_the_reps_own_events_ran_ahead():
    """Shared notes come from master data, read beside the activities in whatever interleaving
    the fetches give: lateness against the rep's clock would make verdicts depend on it."""
    t = tracker(located(), checkin(), checkout(), RepActivity("later", "t", "r1", T0 + timedelta(days=3), "call"))
    assert t.verdict("ci-1").decided and not t.verdict("ci-1").effective
    own = note("n-own")
    assert t.admit(own) is Admission.TOO_LATE
    shared = RequirementNoted("n-crm", "t", "o1", "c1", T0 + timedelta(minutes=10), rep_id="r2", shared=True)
    assert t.admit(shared) is Admission.ACCEPTED
    assert [v.effective for v, _ in t.settle()] == [True]


def unnamed(eid="ci-u", at=T0, pos=None, rep="r1"):
    return CheckIn(eid, "t", rep, "", at, pos or north(50))


def test_a_check_in_naming_no_customer_is_placed_when_the_address_arrives_later():
    """A DingTalk check-in carries a position, no customer: placed at the nearest customer
    address inside the geofence — also when that address is entered after the visit."""
    t = tracker(unnamed(), note("n-1", opp="", customer="c1"), checkout(checkin_id="ci-u"))
    assert t.verdict("ci-u").customer_id == "" and not t.verdict("ci-u").effective
    (v,) = t.apply(located()).changed
    assert v.customer_id == "c1" and v.effective, v.reasons


def test_a_nearer_address_or_a_moved_one_places_the_check_in_again():
    far = CustomerChanged("loc-far", "t", "c-far", T0 - timedelta(days=3), {"address": "x"}, location=north(250))
    t = tracker(far, unnamed(pos=north(100)))
    assert t.verdict("ci-u").customer_id == "c-far"  # 150 m away: inside the 200 m fence
    t.apply(CustomerChanged("loc-near", "t", "c-near", T0 - timedelta(days=2), {"address": "y"}, location=north(80)))
    assert t.verdict("ci-u").customer_id == "c-near"  # 20 m
    t.apply(CustomerChanged("moved", "t", "c-near", T0 - timedelta(days=1), {"address": "z"}, location=north(5000)))
    assert t.verdict("ci-u").customer_id == "c-far"  # c-near moved away: the nearest again
    t.apply(CustomerChanged("moved-far", "t", "c-far", T0 - timedelta(hours=1), {"address": "w"}, location=north(9000)))
    assert t.verdict("ci-u").customer_id == ""
    assert any("no known customer" in reason for reason in t.verdict("ci-u").reasons)


def test_placement_does_not_depend_on_whether_addresses_or_check_ins_came_first():
    addresses = [CustomerChanged(f"loc-{n}", "t", f"c{n}", T0 - timedelta(days=1, minutes=n), {"address": "a"},
                                 location=north(60 * n)) for n in range(6)]
    check_ins = [unnamed(f"ci-{n}", at=T0 + timedelta(hours=n), pos=north(37 * n)) for n in range(8)]
    first = tracker(*addresses, *check_ins)
    second = tracker(*check_ins, *addresses)
    assert first.verdicts() == second.verdicts()
    assert {v.customer_id for v in first.verdicts()} >= {"c0", "c1", "c2", "c3", "c4"}


@pytest.mark.parametrize("lat", [0.0, 31.2, 59.9, -45.0])
def test_the_nearest_customer_is_the_brute_force_nearest(lat):
    import random

    rnd = random.Random(int(lat * 10))
    t = VisitTracker("t", SH, PulseThresholds(geofence_radius_m=300))
    sites = {f"c{n}": GeoPoint(lat + rnd.uniform(-0.01, 0.01), 100 + rnd.uniform(-0.01, 0.01)) for n in range(60)}
    for customer, site in sites.items():
        t.apply(CustomerChanged(f"loc-{customer}", "t", customer, T0, {}, location=site))
    for _ in range(300):
        probe = GeoPoint(lat + rnd.uniform(-0.012, 0.012), 100 + rnd.uniform(-0.012, 0.012))
        within = sorted((haversine_m(probe, site), c) for c, site in sites.items() if haversine_m(probe, site) <= 300)
        assert t.nearest_customer(probe) == (within[0][1] if within else None)


def test_a_note_naming_only_its_opportunity_counts_at_the_account_once_the_opportunity_is_known():
    """An activity note names opportunity o9; the check-in names the customer, no opportunity.
    The opportunity's account (actions' master data) may be read after the note."""
    from services.pulse.domain.events import OpportunityOpened

    visit = checkin(opp="")
    filed = RequirementNoted("n-opp", "t", "o9", "", T0 + timedelta(minutes=10), rep_id="r1")
    opened = OpportunityOpened("open-o9", "t", "o9", "c1", T0 - timedelta(days=5))
    late = tracker(located(), visit, filed, checkout())
    assert not late.verdict("ci-1").effective
    assert [v.effective for v in late.apply(opened).changed] == [True]
    early = tracker(opened, located(), visit, filed, checkout())
    assert early.verdicts() == late.verdicts()
    assert "n-opp" in early.verdict("ci-1").evidence_event_ids

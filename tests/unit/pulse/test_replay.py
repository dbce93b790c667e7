"""Every number drills down to raw events, and replaying the same events into fresh state — in
order, or shuffled within the lateness allowance, with redeliveries — gives the same numbers."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    ForecastGraded,
    GeoPoint,
    LeadAssigned,
    LeadResponded,
    RepActivity,
    RequirementNoted,
    StageAdvanced,
)
from services.pulse.domain.book import EFFECTIVE_VISITS, PulseBook, TenantSettings
from services.pulse.domain.indicators import HealthState
from services.pulse.domain.pulse import TenantPulse
from services.pulse.domain.thresholds import PulseThresholds
from services.pulse.domain.windows import Admission

SH = ZoneInfo("Asia/Shanghai")
SITE = GeoPoint(31.2304, 121.4737)
DAYS = [date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
REPS = ["r1", "r2", "r3"]


def history(seed=7):
    rnd = random.Random(seed)
    events = []
    for c in range(6):
        fields = {"name": f"C{c}", "industry": "mfg", "address": "x", "contact_name": "y", "contact_phone": "1"}
        if c % 2:
            fields["decision_maker"] = "boss"
        events.append(CustomerChanged(f"cust-{c}", "t", f"c{c}", datetime(2026, 11, 1, tzinfo=SH), fields, SITE))
    n = 0
    for day in DAYS:
        for rep in REPS:
            t = datetime(day.year, day.month, day.day, 9, 0, tzinfo=SH)
            for v in range(rnd.randint(0, 3)):
                n += 1
                cust = f"c{rnd.randrange(6)}"
                pos = GeoPoint(SITE.lat + rnd.choice([0.0005, 0.01]), SITE.lon)
                ci = CheckIn(f"ci-{n}", "t", rep, cust, t, pos, opportunity_id=f"o-{cust}")
                events.append(ci)
                stay = timedelta(minutes=rnd.choice([18, 24, 26, 40]))
                if rnd.random() < 0.8:
                    events.append(CheckOut(f"co-{n}", "t", rep, t + stay, customer_id=cust))
                else:
                    events.append(RepActivity(f"call-{n}", "t", rep, t + stay, kind="call"))
                if rnd.random() < 0.7:
                    events.append(RequirementNoted(f"note-{n}", "t", f"o-{cust}", cust, t + stay / 2, rep))
                t += stay + timedelta(minutes=30)
            for k in range(4):
                n += 1
                at = datetime(day.year, day.month, day.day, 13, 0, tzinfo=SH) + timedelta(minutes=7 * k)
                events.append(LeadAssigned(f"la-{n}", "t", f"L{n}", rep, at))
                if rnd.random() < 0.9:
                    answered = at + timedelta(minutes=rnd.randint(1, 25))
                    events.append(LeadResponded(f"lr-{n}", "t", f"L{n}", rep, answered))
                verified = rnd.random() < 0.9
                moved = at + timedelta(minutes=1)
                events.append(StageAdvanced(f"st-{n}", "t", f"o{n}", rep, "proposal", moved, verified))
                graded = at + timedelta(minutes=2)
                events.append(ForecastGraded(f"fg-{n}", "t", f"o{n}", rep, rnd.choice("ABBCD"), graded))
        # a customer edit during the day
        events.append(CustomerChanged(f"edit-{day}", "t", "c0", datetime(day.year, day.month, day.day, 15, tzinfo=SH),
                                      {"contact_phone": "" if day.day % 2 else "9"}))
    # the end of the week closes every window (event time runs per rep for visits: each rep's own)
    events.append(RepActivity("end", "t", "r1", datetime(2026, 11, 30, 9, 0, tzinfo=SH)))
    events += [RepActivity(f"end-{rep}", "t", rep, datetime(2026, 11, 30, 9, 0, tzinfo=SH)) for rep in REPS if rep != "r1"]
    return sorted(events, key=lambda e: (e.at, e.event_id))


def shuffled_within_allowance(events, allowance, seed):
    """Arrival order: each event is delayed by less than the allowance, so none trails the
    watermark by more than the allowance; some are redelivered."""
    rnd = random.Random(seed)
    delayed = [(e.at + rnd.random() * 0.99 * allowance, rnd.random(), e) for e in events]
    delayed += [(d + allowance / 2, r, e) for d, r, e in rnd.sample(delayed, 20)]  # redeliveries
    return [e for _, _, e in sorted(delayed, key=lambda x: (x[0], x[1]))]


def snapshot(p: TenantPulse):
    return (
        [p.dashboard(d, roster=REPS) for d in DAYS],
        [p.effective_visits.value(r, d) for r in REPS for d in DAYS],
        [p.lead_response.value(d.isoformat(), rep_id=r) for r in REPS for d in DAYS],
        p.visits.verdicts(),
        p.customer_data.incomplete_customers(),
    )


def replay(events):
    p = TenantPulse("t", SH)
    for e in events:
        assert p.apply(e).admission is not Admission.TOO_LATE
    return p


def test_replay_in_order_gives_the_same_numbers_twice():
    events = history()
    assert snapshot(replay(events)) == snapshot(replay(events))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_replay_within_allowance_gives_identical_values_and_drill_downs(seed):
    events = history()
    expected = snapshot(replay(events))
    arrival = shuffled_within_allowance(events, PulseThresholds().lateness_allowance, seed)
    assert arrival != events
    assert snapshot(replay(arrival)) == expected


def test_every_number_drills_down_to_raw_events():
    events = history()
    by_id = {e.event_id: e for e in events}
    p = replay(events)
    for indicators in p.dashboard(DAYS[2], roster=REPS), p.dashboard(DAYS[4], roster=REPS):
        for ind in indicators:
            assert ind.state is not HealthState.NO_DATA
            assert ind.drill_down
            for line in ind.drill_down:
                for ref in line.events:
                    assert by_id[ref.event_id].at == ref.at
    stage = p.stage_progression.value(DAYS[2].isoformat())
    assert stage.detail("stage_changes") == len(stage.drill_down) == 12
    for v in p.visits.verdicts():
        assert all(eid in by_id for eid in v.evidence_event_ids)
        assert v.decided


def test_events_beyond_the_allowance_are_reported_too_late_not_dropped():
    events = history()
    p = TenantPulse("t", SH)
    late = next(e for e in events if isinstance(e, StageAdvanced))
    for e in events:
        if e is not late:
            p.apply(e)
    assert p.apply(late).admission is Admission.TOO_LATE
    ind = p.stage_progression.value(p.stage_progression.assigner.window_of(late.at).key)
    assert late.event_id in [x.event_id for x in ind.too_late]
    assert late.event_id not in [r.event_id for d in ind.drill_down for r in d.events]


def test_tenant_pulse_routes_customer_changes_to_flags_and_visit_verdicts():
    p = TenantPulse("t", SH)
    t0 = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    p.apply(CheckIn("ci", "t", "r1", "c1", t0, SITE, opportunity_id="o1"))
    p.apply(RequirementNoted("n", "t", "o1", "c1", t0 + timedelta(minutes=5)))
    first = p.apply(CheckOut("co", "t", "r1", t0 + timedelta(minutes=30), customer_id="c1"))
    assert [v.effective for v in first.verdicts] == [False]  # no geocoded address yet
    update = p.apply(CustomerChanged("loc", "t", "c1", t0 - timedelta(days=1), {"name": "ACME"}, SITE))
    assert [v.effective for v in update.verdicts] == [True]
    assert update.customer.missing == ("industry", "address", "contact_name", "contact_phone", "decision_maker")
    assert p.effective_visits.value("r1", date(2026, 11, 24)).value == 1.0
    assert p.apply(CustomerChanged("loc", "t", "c1", t0, {})).admission is Admission.DUPLICATE
    with pytest.raises(TypeError):
        p.apply(object())


# ------------------------------------------------------------------ batches (the stream worker's way)


def book_in_batches(events, size: int) -> tuple[PulseBook, list]:
    book = PulseBook(lambda tenant: TenantSettings(SH))
    changes = [book.apply_batch(events[i : i + size]) for i in range(0, len(events), size)]
    return book, changes


@pytest.mark.parametrize("size", [1, 7, 60, 10_000])
@pytest.mark.parametrize("seed", [None, 4])
def test_a_book_fed_in_batches_holds_what_event_by_event_application_holds(size, seed):
    """Visits are judged once per batch (admit, then settle): whatever the batch size, the
    verdicts, counts and drill-downs are those of applying each event on its own."""
    events = history()
    arrival = events if seed is None else shuffled_within_allowance(events, PulseThresholds().lateness_allowance, seed)
    expected = snapshot(replay(arrival))
    book, changes = book_in_batches(arrival, size)
    assert snapshot(book.tenant("t")) == expected
    # What was published last for each visit and each scope is what the book holds now.
    last_verdicts = {c.verdict.visit_id: c.verdict for batch in changes for c in batch.verdicts}
    assert tuple(sorted(last_verdicts.values(), key=lambda v: (v.started_at, v.visit_id))) == expected[3]
    pulse = book.tenant("t")
    last_counts = {(c.scope, c.indicator.window): c.indicator.value for batch in changes for c in batch.indicators
                   if c.indicator.name == EFFECTIVE_VISITS}
    for (scope, window), value in last_counts.items():
        assert pulse.effective_visits.value(scope.removeprefix("rep:"), date.fromisoformat(window)).value == value


def test_a_verdict_change_names_the_input_that_led_to_it():
    t0 = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    book = PulseBook(lambda tenant: TenantSettings(SH))
    book.apply_batch([CustomerChanged("loc", "t", "c1", t0 - timedelta(days=1), {"name": "ACME"}, SITE)])
    first = book.apply_batch([
        CheckIn("ci", "t", "r1", "c1", t0, SITE, opportunity_id="o1"),
        RequirementNoted("n", "t", "o1", "c1", t0 + timedelta(minutes=5), "r1"),
    ])
    assert [(c.verdict.visit_id, c.cause_event_id, c.revision) for c in first.verdicts] == [("ci", "n", 1)]
    ended = book.apply_batch([CheckOut("co", "t", "r1", t0 + timedelta(minutes=30), customer_id="c1")])
    assert [(c.cause_event_id, c.verdict.effective, c.revision) for c in ended.verdicts] == [("co", True, 2)]
    # A visit without a note is decided by the rep's later activity, which is its cause.
    book.apply_batch([CheckIn("ci2", "t", "r1", "c1", t0 + timedelta(hours=1), SITE, opportunity_id="o2"),
                      CheckOut("co2", "t", "r1", t0 + timedelta(hours=1, minutes=30), customer_id="c1")])
    decided = book.apply_batch([RepActivity("call", "t", "r1", t0 + timedelta(hours=6), kind="call")])
    assert [(c.verdict.visit_id, c.cause_event_id, c.verdict.decided) for c in decided.verdicts] == [
        ("ci2", "call", True)
    ]
    effective = [c for c in ended.indicators if c.indicator.name == EFFECTIVE_VISITS]
    assert [(c.cause_event_id, c.indicator.value) for c in effective] == [("co", 1.0)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_effective_visit_counts_equal_a_recount(seed):
    """`headline` reads counts kept up to date as verdicts are revised; `value` recounts the
    verdicts: equal after every revision, in any arrival order."""
    p = TenantPulse("t", SH)
    checked = 0
    for event in shuffled_within_allowance(history(), PulseThresholds().lateness_allowance, seed):
        for verdict in p.apply(event).verdicts:
            day = p.effective_visits.day_of(verdict)
            full = p.effective_visits.value(verdict.rep_id, day)
            assert p.effective_visits.headline(verdict.rep_id, day) == (full.value, full.state)
            checked += 1
    assert checked > 50
    for rep in REPS:
        for day in DAYS:
            full = p.effective_visits.value(rep, day)
            assert p.effective_visits.headline(rep, day) == (full.value, full.state)


@pytest.mark.parametrize("size", [1, 7, 60, 10_000])
@pytest.mark.parametrize("seed", [None, 4, 5])
def test_what_was_published_last_for_every_scope_is_what_the_book_holds_whatever_the_batches(size, seed):
    """A consumer keeping the latest record per visit and per indicator scope ends with the
    book's numbers, whatever the batch boundaries: a scope whose value depends on other
    scopes (a day's streak state on the days before it) is re-published when they change."""
    events = history()
    arrival = events if seed is None else shuffled_within_allowance(events, PulseThresholds().lateness_allowance, seed)
    book, changes = book_in_batches(arrival, size)
    pulse = book.tenant("t")
    last = {}
    for batch in changes:
        for c in batch.indicators:
            last[(c.indicator.name, c.scope, c.indicator.window)] = (c.indicator.value, c.indicator.state)
    assert last
    for (name, scope, window), published in last.items():
        if name == EFFECTIVE_VISITS:
            held = pulse.effective_visits.value(scope.removeprefix("rep:"), date.fromisoformat(window))
        elif scope.startswith("customer:"):
            held = pulse.customer_data.customer_value(scope.removeprefix("customer:"))
        else:
            held = book.indicator("t", name, date.fromisoformat(window), scope.removeprefix("rep:"), REPS)
        assert published == (held.value, held.state), (name, scope, window)


def as_streams(events, lead_streams=3):
    """The history as the log holds it: activities on their rep's partition, leads and stage
    changes on partitions by lead / opportunity (`stream`), customers on theirs."""
    from dataclasses import replace as with_

    streams: dict[str, list] = {}
    for e in events:
        if isinstance(e, (LeadAssigned, LeadResponded)):
            e = with_(e, stream=f"lead[{int(e.lead_id[1:]) % lead_streams}]")
            name = e.stream
        elif isinstance(e, (StageAdvanced, ForecastGraded)):
            e = with_(e, stream=f"opportunity[{int(e.opportunity_id[1:]) % lead_streams}]")
            name = e.stream
        elif isinstance(e, CustomerChanged):
            name = "account"
        else:
            name = f"activity:{e.rep_id}"
        streams.setdefault(name, []).append(e)
    return streams


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_how_a_reader_interleaves_the_partitions_changes_no_number(seed):
    """Each partition in its own order, the partitions interleaved any way — one read whole
    before the next, as a replay's fetches may: no event is too late and every number is the
    in-order one. Lateness is judged per stream; with one clock for the tenant, a lead
    partition read days ahead of another made the other's events too late."""
    streams = as_streams(history())
    in_order = sorted((e for s in streams.values() for e in s), key=lambda e: (e.at, e.event_id))
    expected = snapshot(replay(in_order))
    rnd = random.Random(seed)
    names = sorted(streams)
    rnd.shuffle(names)
    if seed == 1:
        arrival = [e for name in names for e in streams[name]]  # each partition read whole
    else:
        cursors = {name: 0 for name in names}
        arrival = []
        while cursors:
            name = rnd.choice(sorted(cursors))
            take = rnd.randint(1, 40)
            arrival += streams[name][cursors[name] : cursors[name] + take]
            cursors[name] += take
            if cursors[name] >= len(streams[name]):
                del cursors[name]
    assert snapshot(replay(arrival)) == expected


def test_lateness_is_still_judged_within_a_stream():
    events = history()
    late = next(e for e in events if isinstance(e, StageAdvanced))
    p = TenantPulse("t", SH)
    for e in events:
        if e is not late:
            p.apply(e)
    from dataclasses import replace as with_

    assert p.apply(with_(late, stream="elsewhere")).admission is Admission.ACCEPTED  # a stream's first event
    p2 = TenantPulse("t", SH)
    for e in events:
        if e is not late:
            p2.apply(e)
    assert p2.apply(late).admission is Admission.TOO_LATE  # behind its own stream's closed window


def test_a_lead_moved_to_another_rep_by_an_earlier_assignment_leaves_no_stale_value_behind():
    t0 = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    book = PulseBook(lambda tenant: TenantSettings(SH))
    published = {}

    def fold(*events):
        for c in book.apply_batch(list(events)).indicators:
            published[(c.scope, c.indicator.window)] = (c.indicator.value, c.indicator.state)

    fold(LeadAssigned("a-r1", "t", "L1", "r1", t0), LeadResponded("reply", "t", "L1", "r1", t0 + timedelta(minutes=5)))
    assert published[("rep:r1", "2026-11-24")] == (1.0, HealthState.GREEN)
    fold(LeadAssigned("a-r2", "t", "L1", "r2", t0 - timedelta(minutes=5)))  # the first assignment, late
    assert published[("rep:r2", "2026-11-24")] == (1.0, HealthState.GREEN)
    held = book.indicator("t", "lead_response", date(2026, 11, 24), "r1", REPS)
    assert published[("rep:r1", "2026-11-24")] == (held.value, held.state) == (None, HealthState.NO_DATA)


def test_an_indicator_returning_to_an_earlier_value_gets_a_new_event_id():
    """Ids follow the change (before and after): a consumer that drops ids it has seen keeps
    the scope's last value even when it equals an earlier one."""
    from services.pulse.adapters.messages import indicator_event_id

    t0 = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    book = PulseBook(lambda tenant: TenantSettings(SH))
    changes = []
    for events in (
        [LeadAssigned("a1", "t", "L1", "r1", t0), LeadResponded("r1", "t", "L1", "r1", t0 + timedelta(minutes=2))],
        [LeadAssigned("a2", "t", "L2", "r1", t0 + timedelta(minutes=1)),
         LeadResponded("r2", "t", "L2", "r1", t0 + timedelta(minutes=40))],  # late: 0.5
        [LeadResponded("r2-early", "t", "L2", "r1", t0 + timedelta(minutes=10))],  # an earlier reply: 1.0 again
    ):
        changes += [c for c in book.apply_batch(events).indicators if c.scope == "rep:r1"]
    assert [c.indicator.value for c in changes] == [1.0, 0.5, 1.0]
    ids = [indicator_event_id(c) for c in changes]
    assert len(set(ids)) == 3
    assert indicator_event_id(changes[2]) == indicator_event_id(changes[2])  # a re-publish keeps its id

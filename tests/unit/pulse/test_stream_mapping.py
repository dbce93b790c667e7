"""From Kafka records to verdicts and indicator changes: the mapping of each activity kind,
per-tenant thresholds, duplicates, late events and replay equality, without a broker."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from dealpulse.activity.v1 import events_pb2 as activity_pb
from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from kernel.envelope import EnvelopeError
from services.pulse.adapters import messages
from services.pulse.adapters.records import RecordMapper, schema_and_tenant
from services.pulse.adapters.tenant_settings import settings_from_dict
from services.pulse.domain.book import EFFECTIVE_VISITS, LEAD_RESPONSE, STAGE_PROGRESSION, PulseBook, TenantSettings
from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    GeoPoint,
    LeadAssigned,
    OpportunityOpened,
    LeadResponded,
    RepActivity,
    RequirementNoted,
    StageAdvanced,
)
from services.pulse.domain.indicators import HealthState
from services.pulse.domain.thresholds import InvalidThresholds
from services.pulse.domain.windows import Admission

from .records import SITE, TENANT, Log, utc

T0 = utc(2026, 3, 2, 1, 0)  # Monday 09:00 in Shanghai
DAY = date(2026, 3, 2)
SITE_KNOWN = CustomerChanged(event_id="geo-1", tenant_id=TENANT, customer_id="ruijin", at=T0 - timedelta(days=30),
                             fields={"name": "Ruijin"}, location=GeoPoint(*SITE))


def mapped(book: PulseBook, mapper: RecordMapper, record):
    return mapper.map(record.topic, record.partition, record.offset, record.value, record.headers)


def fold(records, settings=None, *, with_site=True):
    book = PulseBook((lambda tenant: settings) if settings else (lambda tenant: TenantSettings()))
    mapper = RecordMapper(book)
    changes = []
    if with_site:
        changes.append(book.apply_batch([SITE_KNOWN]))
    for record in records:
        changes.append(book.apply_batch(mapped(book, mapper, record).events))
    return book, mapper, changes


def effective_visit(log: Log, n: int, start, *, rep="bob", minutes=40, position=SITE):
    log.activity(f"{rep}-in-{n}", "check_in", start, rep=rep, opportunity="ct-1", position=position)
    log.activity(f"{rep}-note-{n}", "requirement_note", start + timedelta(minutes=10), rep=rep, opportunity="ct-1")
    log.activity(f"{rep}-out-{n}", "check_out", start + timedelta(minutes=minutes), rep=rep)


# ------------------------------------------------------------------ mapping


def test_each_activity_kind_maps_to_its_domain_event():
    log = Log()
    book = PulseBook()
    mapper = RecordMapper(book)
    book.apply_batch([SITE_KNOWN])
    cases = [
        (log.activity("a1", "check_in", T0), CheckIn),
        (log.activity("a2", "check_out", T0), CheckOut),
        (log.activity("a3", "check_in", T0, position=None), RepActivity),  # no position: not a visit
        (log.activity("a4", "requirement_note", T0, opportunity="ct-1"), RequirementNoted),
        (log.activity("a5", "email", T0, direction=activity_pb.EMAIL_DIRECTION_INBOUND), RepActivity),
    ]
    for record, kind in cases:
        (event,) = mapped(book, mapper, record).events
        assert isinstance(event, kind), record.offset
    visit = mapped(book, mapper, log.activity("a6", "visit", T0, duration_seconds=1800)).events
    assert [type(e) for e in visit] == [CheckIn, CheckOut] and visit[1].at - visit[0].at == timedelta(minutes=30)
    assert visit[1].checkin_id == visit[0].event_id


def test_a_check_in_naming_no_customer_is_at_the_nearest_customer_inside_the_geofence():
    log = Log()
    book, mapper, _ = fold([])
    near = (SITE[0] + 0.0005, SITE[1])  # ~55 m north
    far = (SITE[0] + 0.01, SITE[1])  # ~1.1 km
    near_check_in = mapped(book, mapper, log.activity("n1", "check_in", T0, customer="", position=near)).events
    far_check_in = mapped(book, mapper, log.activity("n2", "check_in", T0, customer="", position=far)).events
    assert [e.customer_id for e in near_check_in + far_check_in] == ["", ""]  # placed by the domain, not here
    book.apply_batch(list(near_check_in + far_check_in))
    visits = book.tenant(TENANT).visits
    assert visits.verdict(near_check_in[0].event_id).customer_id == "ruijin"
    assert visits.verdict(far_check_in[0].event_id).customer_id == ""  # judged: at no known customer


def test_lead_assignments_and_responses_come_from_the_actions_lead_topic():
    log = Log()
    book, mapper, _ = fold([])
    (assigned,) = mapped(book, mapper, log.lead("lead-9", T0, "assigned", rep="bob")).events
    assert isinstance(assigned, LeadAssigned) and assigned.rep_id == "bob"
    call = log.activity("c1", "call", T0 + timedelta(minutes=5), lead="lead-9", duration_seconds=90)
    assert [type(e) for e in mapped(book, mapper, call).events] == [RepActivity]  # actions judges the response
    (answered,) = mapped(book, mapper, log.lead("lead-9", T0 + timedelta(minutes=5), "contacted",
                                                activity_id="act-1")).events
    assert isinstance(answered, LeadResponded) and answered.activity_id == "act-1"
    # Lateness runs per partition: each event names the one it came from.
    lead_record = log.lead("lead-9", T0, "assigned", rep="bob")
    assert assigned.stream == answered.stream == f"{lead_record.topic}[{lead_record.partition}]"


def test_actions_facts_map_to_notes_stage_changes_and_customers():
    log = Log()
    book, mapper, _ = fold([], with_site=False)
    (opened,) = mapped(book, mapper, log.opportunity("ct-1", T0, "opened", account_id="ruijin")).events
    assert isinstance(opened, OpportunityOpened) and opened.account_id == "ruijin"
    (note,) = mapped(book, mapper, log.opportunity("ct-1", T0, "note")).events
    assert isinstance(note, RequirementNoted) and note.customer_id == "ruijin" and note.opportunity_id == "ct-1"
    (stage,) = mapped(book, mapper, log.opportunity("ct-1", T0, "stage_changed", verified=False)).events
    assert isinstance(stage, StageAdvanced) and stage.rep_id == "bob" and not stage.with_all_mandatory_verified
    assert stage.stream.startswith("actions.opportunity.v1[") and note.shared
    (customer,) = mapped(book, mapper, log.account("ruijin", T0, industry="medical")).events
    assert isinstance(customer, CustomerChanged) and dict(customer.fields) == {"name": "Ruijin", "industry": "medical"}
    assert mapped(book, mapper, log.rep("bob", "ann", T0)).events == ()
    assert mapper.roster == {TENANT: {"bob": "ann"}}


def test_undecodable_and_foreign_records_are_refused():
    log = Log()
    book, mapper, _ = fold([])
    record = log.activity("x1", "call", T0)
    with pytest.raises(EnvelopeError):
        mapper.map(record.topic, 0, 0, b"\xff\xff", record.headers)
    forged = [(k, b"globex" if k == "ce_tenantid" else v) for k, v in record.headers]
    with pytest.raises(EnvelopeError, match="does not match"):
        mapper.map(record.topic, 0, 0, record.value, forged)
    with pytest.raises(EnvelopeError):
        mapper.map(record.topic, 0, 0, record.value, [])


def test_an_activity_time_outside_the_timestamp_range_is_refused_not_a_crash():
    log = Log()
    book, mapper, _ = fold([])
    record = log.activity("x1", "call", T0)
    activity = activity_pb.ActivityEvent.FromString(record.value)
    activity.occurred_at.seconds = 253402300800  # 10000-01-01
    with pytest.raises(EnvelopeError, match="out of range"):
        mapper.map(record.topic, 0, 0, activity.SerializeToString(), record.headers)


def test_the_worker_mapping_without_drill_down_references_gives_the_same_events():
    log = Log()
    book, mapper, _ = fold([])
    record = log.activity("x1", "call", T0)
    schema, tenant = schema_and_tenant(record.headers)
    lean = mapper.events_of(schema, tenant, record)
    full = mapper.map(record.topic, 0, 0, record.value, record.headers)
    assert lean == full.events and full.source is not None
    assert full.events[0].at == T0


def test_the_hot_path_header_read_agrees_with_a_full_envelope_parse():
    record = Log().activity("x1", "call", T0)
    assert schema_and_tenant(record.headers) == (activity_pb.ActivityEvent.DESCRIPTOR.full_name, TENANT)
    # Repeated headers: the last one wins, as in `Envelope.from_headers`.
    doubled = [*record.headers, ("ce_tenantid", b"other"), ("traceparent", b"00-x")]
    assert schema_and_tenant(doubled) == (activity_pb.ActivityEvent.DESCRIPTOR.full_name, "other")
    for broken in ([h for h in record.headers if h[0] != "ce_tenantid"], [("ce_tenantid", 7)], None):
        with pytest.raises(EnvelopeError):
            schema_and_tenant(broken)


# ------------------------------------------------------------------ verdicts and indicator changes


def test_an_effective_visit_is_published_with_its_indicator_change():
    log = Log()
    effective_visit(log, 1, T0)
    book, _, changes = fold(log.records)
    verdicts = [c for batch in changes for c in batch.verdicts]
    final = verdicts[-1].verdict
    assert final.effective and final.reasons == () and final.on_site == timedelta(minutes=40)
    message = messages.verdict_message(verdicts[-1])
    assert message.effective and message.ended_by == pulse_pb.VISIT_END_CHECK_OUT and message.distance_m == 0.0
    indicator_changes = [c for batch in changes for c in batch.indicators if c.indicator.name == EFFECTIVE_VISITS]
    assert indicator_changes[-1].indicator.value == 1.0 and indicator_changes[-1].scope == "rep:bob"
    event = messages.indicator_message(indicator_changes[-1])
    assert event.indicator == pulse_pb.INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY and event.window == "2026-03-02"


def test_a_check_in_at_no_known_customer_is_not_effective_and_drills_down():
    log = Log()
    log.activity("office", "check_in", T0, customer="", position=(SITE[0] + 0.05, SITE[1]))
    log.activity("call", "call", T0 + timedelta(minutes=50), duration_seconds=60)
    book, _, _ = fold(log.records)
    (verdict,) = book.tenant(TENANT).visits.verdicts()
    assert not verdict.effective and verdict.reasons[0].startswith("checked in at no known customer")
    value = book.indicator(TENANT, EFFECTIVE_VISITS, DAY, "bob", ())
    assert value.value == 0.0
    (why,) = [row for row in value.drill_down if "not effective" in row.subject]
    assert [e.event_id for e in why.events] == [verdict.visit_id] and "no known customer" in why.detail


def test_a_short_visit_far_away_gets_every_reason():
    log = Log()
    log.activity("in", "check_in", T0, position=(SITE[0] + 0.01, SITE[1]))
    log.activity("out", "check_out", T0 + timedelta(minutes=20))
    log.activity("later", "call", T0 + timedelta(hours=3), duration_seconds=60)
    book, _, _ = fold(log.records)
    (verdict,) = book.tenant(TENANT).visits.verdicts()
    assert not verdict.effective and verdict.decided
    assert [r.split(" ")[0] for r in verdict.reasons] == ["checked", "on", "no"]


def test_the_geofence_radius_is_per_tenant():
    log = Log()
    effective_visit(log, 1, T0, position=(SITE[0] + 0.001, SITE[1]))  # ~111 m away
    default, _, _ = fold(log.records)
    strict, _, _ = fold(log.records, settings_from_dict({"thresholds": {"geofence_radius_m": 50}}))
    assert default.tenant(TENANT).visits.verdicts()[0].effective
    (verdict,) = strict.tenant(TENANT).visits.verdicts()
    assert not verdict.effective and "within 50 m" in verdict.reasons[0]


def test_unknown_tenant_settings_are_refused():
    with pytest.raises(InvalidThresholds):
        settings_from_dict({"thresholds": {"mood": 3}})
    with pytest.raises(InvalidThresholds):
        settings_from_dict({"time_zone": "Mars/Olympus"})
    settings = settings_from_dict({"time_zone": "Europe/Berlin", "thresholds": {"lead_response_limit_minutes": 30}})
    assert settings.thresholds.lead_response_limit == timedelta(minutes=30) and settings.time_zone.key == "Europe/Berlin"


def test_duplicates_change_nothing_and_publish_nothing():
    log = Log()
    effective_visit(log, 1, T0)
    book, mapper, _ = fold(log.records)
    again = book.apply_batch([e for r in log.records for e in mapped(book, mapper, r).events])
    assert again.verdicts == [] and again.indicators == [] and again.admissions == {Admission.DUPLICATE: 3}


def test_an_event_past_the_lateness_allowance_is_listed_not_counted():
    log = Log()
    effective_visit(log, 1, T0)
    log.activity("next-day", "call", T0 + timedelta(days=1, hours=2), duration_seconds=60)
    late = log.activity("late-checkin", "check_in", T0 + timedelta(hours=2))  # its day closed at midnight + 10 min
    book, _, changes = fold(log.records)
    assert changes[-1].admissions == {Admission.TOO_LATE: 1} and changes[-1].verdicts == []
    too_late = book.tenant(TENANT).visits.too_late
    assert [e.event_id for e in too_late] == [mapped(book, RecordMapper(book), late).events[0].event_id]


def test_late_events_inside_the_allowance_revise_the_verdict():
    log = Log()
    log.activity("in", "check_in", T0, opportunity="ct-1")
    log.activity("out", "check_out", T0 + timedelta(minutes=40))
    log.activity("note", "requirement_note", T0 + timedelta(minutes=5), opportunity="ct-1")  # arrives last
    book, _, changes = fold(log.records)
    revisions = [c for batch in changes for c in batch.verdicts]
    assert not revisions[0].verdict.effective and revisions[-1].verdict.effective
    assert [c.revision for c in revisions] == list(range(1, len(revisions) + 1))


def test_lead_response_share_turns_red_below_the_threshold():
    log = Log()
    book, mapper, _ = fold([])
    assigned = [LeadAssigned(event_id=f"as-{i}", tenant_id=TENANT, lead_id=f"lead-{i}", rep_id="bob",
                             at=T0 + timedelta(minutes=i)) for i in range(10)]
    book.apply_batch(assigned)
    responses = []
    for i in range(10):
        wait = timedelta(minutes=10 if i < 8 else 40)  # 8 of 10 within 15 minutes: 80 % < 85 %
        responses += mapped(book, mapper, log.lead(f"lead-{i}", T0 + timedelta(minutes=i) + wait, "contacted",
                                                   activity_id=f"call-{i}")).events
    changes = book.apply_batch(responses)
    (change,) = [c for c in changes.indicators if c.indicator.name == LEAD_RESPONSE]
    assert change.indicator.value == pytest.approx(0.8) and change.indicator.state is HealthState.RED
    event = messages.indicator_message(change)
    assert event.p50_minutes == 10.0 and event.p90_minutes == 40.0 and event.previous_state == pulse_pb.HEALTH_STATE_NO_DATA


def test_stage_progression_completeness_follows_the_actions_flag():
    log = Log()
    book, mapper, _ = fold([])
    mapped(book, mapper, log.opportunity("o1", T0, "opened"))
    events = []
    for i in range(25):
        events += mapped(book, mapper, log.opportunity("o1", T0 + timedelta(minutes=i), "stage_changed", verified=i >= 2)).events
    changes = book.apply_batch(events)
    (change,) = [c for c in changes.indicators if c.indicator.name == STAGE_PROGRESSION]
    assert change.indicator.value == pytest.approx(23 / 25) and change.indicator.state is HealthState.GREEN  # 92 %


def test_replaying_the_same_events_in_another_order_gives_the_same_numbers():
    log = Log()
    for rep in ("bob", "carl"):
        for n in range(3):
            effective_visit(log, n, T0 + timedelta(hours=2 * n), rep=rep, minutes=20 + 10 * n)
    log.lead("lead-1", T0 + timedelta(minutes=12), "contacted", activity_id="lead-call")
    shuffled = list(log.records)
    random.Random(7).shuffle(shuffled)  # out of order, but within the day's lateness allowance
    first, _, _ = fold(log.records)
    second, _, _ = fold(shuffled)
    for book in (first, second):
        book.apply_batch([LeadAssigned(event_id="as-1", tenant_id=TENANT, lead_id="lead-1", rep_id="bob", at=T0)])
    one = first.board(TENANT, DAY, ["bob", "carl"])
    two = second.board(TENANT, DAY, ["bob", "carl"])
    assert [messages.indicator_value(i) for i in one.team] == [messages.indicator_value(i) for i in two.team]
    for rep in ("bob", "carl"):
        assert [messages.indicator_value(i) for i in one.reps[rep]] == [messages.indicator_value(i) for i in two.reps[rep]]
    assert first.tenant(TENANT).visits.verdicts() == second.tenant(TENANT).visits.verdicts()


def test_one_call_answering_two_leads_answers_both_and_each_drills_down_to_it():
    log = Log()
    book, mapper, _ = fold([])
    events = [e for lead in ("lead-1", "lead-2") for e in mapped(book, mapper, log.lead(lead, T0, "assigned", rep="bob")).events]
    for lead in ("lead-1", "lead-2"):
        events += mapped(book, mapper, log.lead(lead, T0 + timedelta(minutes=4), "contacted", activity_id="the-call")).events
    book.apply_batch(events)
    value = book.indicator(TENANT, "lead_response", DAY, "bob", ["bob"])
    assert value.detail("answered") == 2 and value.value == 1.0
    assert all("the-call" in [ref.event_id for ref in row.events] for row in value.drill_down)

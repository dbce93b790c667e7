"""Fast checks of the synthetic generator (pure Python; `pytest bench/test_generator.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dealpulse.actions.v1 import events_pb2 as events
from bench.generator import OrgShape, activity, generate_org, openings, org_records, policy_record
from kernel.envelope import decode
from kernel.topics import ACCOUNT, OPPORTUNITY, REP
from services.actions.adapters.messages import kind_from_proto
from services.actions.domain.evidence import Evidence, verify
from services.actions.domain.pipeline import CLOSED_STAGES, DEFAULT_STAGES
from services.actions.domain.policy import DEFAULT_POLICY

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SHAPE = OrgShape(teams=2, reps_per_team=3, accounts_per_rep=2, opportunities=40)


def _stream(seed: int = 3, count: int = 1500):
    org = generate_org(seed, ["t-a", "t-b"], SHAPE)
    return org, list(activity(org, seed=seed, rate=5.0, start=START, count=count))


def test_same_seed_same_stream_other_seed_other_stream():
    _, first = _stream(3)
    _, again = _stream(3)
    _, other = _stream(4)
    assert [(r.key, r.event_id, r.payload.SerializeToString()) for r in first] == [
        (r.key, r.event_id, r.payload.SerializeToString()) for r in again
    ]
    assert [r.event_id for r in first] != [r.event_id for r in other]


def test_tenant_names_do_not_change_the_workload():
    def shape_of(name):
        org = generate_org(9, [name], SHAPE)
        return [(r.key.split("/", 1)[1], r.event_id, r.payload.WhichOneof("change"), r.event_time)
                for r in activity(org, seed=9, rate=5.0, start=START, count=300)]

    assert shape_of("bench-1") == shape_of("bench-2")


def test_org_hierarchy_reps_report_to_their_team_manager():
    org = generate_org(1, ["t-a"], SHAPE)
    tenant = org.tenants[0]
    assert len(tenant.opportunities) == 40 and len(tenant.accounts) == 2 * 3 * 2
    for team in tenant.teams:
        assert tenant.rep(team.manager_id).manager_id == tenant.director_id
        assert all(tenant.rep(r).manager_id == team.manager_id for r in team.rep_ids)
    records = org_records(org, START)
    assert {r.spec.name for r in records} == {REP.name, ACCOUNT.name}
    assert len(records) == len(tenant.reps) + len(tenant.accounts)


def test_every_record_decodes_with_a_matching_envelope_and_key():
    _, stream = _stream()
    for record in stream:
        topic, key, value, headers = record.kafka()
        assert topic == OPPORTUNITY.name
        envelope, payload = decode(events.OpportunityEvent, value, headers)
        assert key.decode() == f"{payload.tenant_id}/{payload.opportunity_id}" == envelope.subject
        assert envelope.tenant_id == payload.tenant_id and envelope.event_id == record.event_id
    assert len({r.event_id for r in stream}) == len(stream)


def test_per_opportunity_order_is_what_the_service_would_accept():
    org, stream = _stream(count=3000)
    state: dict[str, tuple[str, datetime]] = {}
    for record in stream:
        event, at = record.payload, record.event_time
        change = event.WhichOneof("change")
        if change == "opened":
            assert record.key not in state and event.opened.stage in DEFAULT_STAGES
            state[record.key] = (event.opened.stage, at)
            continue
        stage, last = state[record.key]  # nothing happens before the opening
        assert at >= last and stage not in CLOSED_STAGES
        if change == "stage_changed":
            assert event.stage_changed.from_stage == stage != event.stage_changed.to_stage
            stage = event.stage_changed.to_stage
        state[record.key] = (stage, at)
    assert len(state) == len(org.opportunities)
    assert any(s in CLOSED_STAGES for s, _ in state.values())


def test_evidence_verdicts_match_the_services_verifier_and_include_invalid_ones():
    _, stream = _stream()
    actions = [r.payload.action_recorded for r in stream if r.payload.WhichOneof("change") == "action_recorded"]
    for a in actions:
        evidence = Evidence(a.call_duration_seconds, a.email_message_id, a.checkin_id, a.note)
        verdict = verify(kind_from_proto(a.kind), evidence, DEFAULT_POLICY)
        assert (a.valid, tuple(a.invalid_reasons)) == (verdict.valid, verdict.reasons)
    invalid = sum(not a.valid for a in actions) / len(actions)
    assert 0.05 < invalid < 0.4
    assert {a.kind for a in actions} == {1, 2, 3, 4}


def test_rate_and_duration_set_the_count_and_the_time_span():
    org = generate_org(5, ["t-a"], SHAPE)
    stream = list(activity(org, seed=5, rate=2.0, start=START, duration=timedelta(minutes=10)))
    assert len(stream) == 1200
    span = (stream[-1].event_time - START).total_seconds()
    assert 500 < span < 700


def test_openings_and_policy():
    org = generate_org(2, ["t-a"], SHAPE)
    opened = openings(org, START)
    assert len(opened) == 40 and all(r.payload.WhichOneof("change") == "opened" for r in opened)
    policy = policy_record(org.tenants[0], timedelta(days=365), START)
    assert policy.key == "t-a" and policy.payload.stall.threshold_seconds == 365 * 86400

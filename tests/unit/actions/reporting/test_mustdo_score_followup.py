"""Must-do ranking, process score and follow-up metrics."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.reporting import expectations as x
from services.actions.domain.reporting.calendar import Week, zone
from services.actions.domain.reporting.compliance import RepInfo, Tally
from services.actions.domain.reporting.followup import followup_metrics
from services.actions.domain.reporting.mustdo import (
    RankingWeights,
    candidates_for,
    must_do_list_id,
    rank_must_do,
)
from services.actions.domain.reporting.process_score import process_score
from services.actions.domain.templates import load_catalogue
from services.actions.domain.templates.model import TemplateRef

SHANGHAI = zone("Asia/Shanghai")
MEDICAL = load_catalogue().resolve(TemplateRef("medical_devices", 1), tenant_id="acme")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
STALL = timedelta(hours=48)


def tracked(opp, stage="lead", amount=1_000_00, at=T0, owner="bob"):
    return x.opened(
        tenant_id="acme", opportunity_id=opp, name=f"Deal {opp}", owner_id=owner, amount_cents=amount, currency="CNY",
        template=MEDICAL.ref, stage=stage, stage_spec=MEDICAL.stage(stage), at=at, stall_threshold=STALL, tz=SHANGHAI,
    ).state


def test_candidates_are_the_open_mandatory_actions_with_their_attachment_templates():
    state = tracked("ct", stage="needs_diagnosis")
    found = candidates_for(state, MEDICAL.stage("needs_diagnosis"))
    assert [c.action_id for c in found] == ["needs_diagnosis_form", "pain_point_questions", "competitor_comparison"]
    assert all(c.gate_gaps == 3 for c in found)
    sheet = next(c for c in found if c.action_id == "competitor_comparison")
    assert sheet.attachment_file.endswith(".xlsx") and sheet.attachment_description_en
    assert "more than 90 % complete" in found[0].requirement
    assert candidates_for(state, MEDICAL.stage("lead")) == []
    assert candidates_for(state, None) == []


def test_ranking_takes_the_top_three_and_explains_each():
    now = T0 + timedelta(hours=30)
    big = tracked("big", amount=5_000_000_00)  # lead: call due +24 h (overdue), profile due +48 h
    small = tracked("small", stage="needs_diagnosis", amount=10_000_00, at=T0 - timedelta(hours=40))
    pool = candidates_for(big, MEDICAL.stage("lead")) + candidates_for(small, MEDICAL.stage("needs_diagnosis"))
    ranked = rank_must_do(tenant_id="acme", rep_id="bob", day=date(2026, 3, 3), now=now, candidates=pool)
    assert len(ranked.tasks) == 3 and [t.rank for t in ranked.tasks] == [1, 2, 3]
    first = ranked.tasks[0]
    assert (first.candidate.opportunity_id, first.candidate.action_id) == ("big", "first_contact_call")
    assert "overdue by 6 h" in first.explanation and "your largest" in first.explanation
    assert {f.name for f in first.factors} == {"deadline", "stall_risk", "deal_value", "stage_gate"}
    scores = [t.score for t in ranked.tasks]
    assert scores == sorted(scores, reverse=True)
    assert ranked.list_id == must_do_list_id("acme", "bob", date(2026, 3, 3))
    again = rank_must_do(tenant_id="acme", rep_id="bob", day=date(2026, 3, 3), now=now, candidates=reversed(pool))
    assert [t.task_id for t in again.tasks] == [t.task_id for t in ranked.tasks]


def test_weights_change_the_order_and_the_last_gate_action_gets_the_full_gate_factor():
    now = T0
    state = tracked("one", stage="lead")
    done = x.action_recorded(state, action_id="a", template_action_id="first_contact_call", valid=True,
                             at=T0 + timedelta(minutes=5), tz=SHANGHAI).state
    (last,) = candidates_for(done, MEDICAL.stage("lead"))
    assert last.gate_gaps == 1
    ranked = rank_must_do(tenant_id="acme", rep_id="bob", day=date(2026, 3, 2), now=now, candidates=[last],
                          weights=RankingWeights(deadline=0, stall_risk=0, deal_value=0, stage_gate=1))
    assert ranked.tasks[0].score == 1.0
    assert "the last action missing before the stage gate" in ranked.tasks[0].explanation


def test_a_rep_with_nothing_open_gets_an_empty_list():
    ranked = rank_must_do(tenant_id="acme", rep_id="bob", day=date(2026, 3, 2), now=T0, candidates=[])
    assert ranked.tasks == ()


@pytest.mark.parametrize(
    "kwargs",
    [{"count": 0}, {"count": True}, {"now": datetime(2026, 3, 2)}, {"rep_id": ""}],
)
def test_ranking_rejects_bad_input(kwargs):
    args = {"tenant_id": "acme", "rep_id": "bob", "day": date(2026, 3, 2), "now": T0, "candidates": []} | kwargs
    with pytest.raises(InvalidCommand):
        rank_must_do(**args)


@pytest.mark.parametrize(
    "kwargs", [{"deadline": -1}, {"deadline": 0, "stall_risk": 0, "deal_value": 0, "stage_gate": 0}, {"horizon": timedelta(0)}]
)
def test_bad_weights_are_refused(kwargs):
    with pytest.raises(InvalidCommand):
        RankingWeights(**kwargs)


def test_process_score_weighs_quality_40_percent_by_default():
    score = process_score(submitted=10, submitted_valid=5, completion=Tally(due=4, done_on_time=4), quality_weight=0.4)
    assert (score.quality, score.completion, score.score) == (0.5, 1.0, 80.0)
    assert "quality 50.0 %" in score.explanation and "x 40 %" in score.explanation
    heavier = process_score(submitted=10, submitted_valid=5, completion=Tally(due=4, done_on_time=4), quality_weight=0.8)
    assert heavier.score == 60.0


def test_process_score_without_submissions_or_without_due_work():
    assert process_score(submitted=0, submitted_valid=0, completion=Tally(due=2), quality_weight=0.4).score == 0.0
    only_quality = process_score(submitted=4, submitted_valid=3, completion=Tally(), quality_weight=0.4)
    assert only_quality.score == 75.0 and only_quality.completion is None
    nothing = process_score(submitted=0, submitted_valid=0, completion=Tally(), quality_weight=0.4)
    assert nothing.score is None and "nothing was due" in nothing.explanation


@pytest.mark.parametrize(
    "kwargs",
    [{"quality_weight": 1.5}, {"quality_weight": "0.4"}, {"submitted": -1}, {"submitted": 1, "submitted_valid": 2}],
)
def test_process_score_rejects_bad_input(kwargs):
    args = {"submitted": 1, "submitted_valid": 1, "completion": Tally(), "quality_weight": 0.4} | kwargs
    with pytest.raises(InvalidCommand):
        process_score(**args)


def test_followup_cycle_and_first_week_conversion_per_team():
    counts: dict[str, dict[str, int]] = {}

    def add(applied):
        for ch in applied.changes:
            if isinstance(ch, x.FollowUpCount):
                assert ch.week == Week(2026, 10)
                counts.setdefault(ch.rep_id, {}).setdefault(ch.metric, 0)
                counts[ch.rep_id][ch.metric] += ch.amount
        return applied.state

    fast = add(x.opened(tenant_id="acme", opportunity_id="fast", name="f", owner_id="bob", amount_cents=1, currency="CNY",
                        template=MEDICAL.ref, stage="lead", stage_spec=MEDICAL.stage("lead"), at=T0,
                        stall_threshold=STALL, tz=SHANGHAI))
    add(x.stage_changed(fast, from_stage="lead", to_stage="qualification", to_stage_spec=MEDICAL.stage("qualification"),
                        at=T0 + timedelta(days=2), stall_threshold=STALL, tz=SHANGHAI))
    slow = add(x.opened(tenant_id="acme", opportunity_id="slow", name="s", owner_id="carol", amount_cents=1,
                        currency="CNY", template=MEDICAL.ref, stage="lead", stage_spec=MEDICAL.stage("lead"), at=T0,
                        stall_threshold=STALL, tz=SHANGHAI))
    add(x.stage_changed(slow, from_stage="lead", to_stage="qualification", to_stage_spec=MEDICAL.stage("qualification"),
                        at=T0 + timedelta(days=10), stall_threshold=STALL, tz=SHANGHAI))
    add(x.opened(tenant_id="acme", opportunity_id="idle", name="i", owner_id="dan", amount_cents=1, currency="CNY",
                 template=MEDICAL.ref, stage="lead", stage_spec=MEDICAL.stage("lead"), at=T0,
                 stall_threshold=STALL, tz=SHANGHAI))
    reps = [RepInfo("bob", "Bob", "ann"), RepInfo("carol", "Carol", "ann"), RepInfo("dan", "Dan", "dora")]
    rows = followup_metrics(week=Week(2026, 10), as_of=T0 + timedelta(days=20), tz=SHANGHAI, reps=reps, counts=counts)
    by_team = {r.team_id: r for r in rows}
    ann = by_team["ann"]
    assert (ann.assigned, ann.advanced, ann.advanced_first_week) == (2, 2, 1)
    assert ann.average_cycle_days == 6.0 and ann.first_week_conversion == 0.5 and ann.final
    dora = by_team["dora"]
    assert dora.average_cycle_days is None and dora.first_week_conversion == 0.0
    early = followup_metrics(week=Week(2026, 10), as_of=T0 + timedelta(days=3), tz=SHANGHAI, reps=reps, counts=counts)
    assert not early[0].final
    with pytest.raises(InvalidCommand):
        followup_metrics(week=Week(2026, 10), as_of=datetime(2026, 3, 9), tz=SHANGHAI, reps=reps, counts=counts)

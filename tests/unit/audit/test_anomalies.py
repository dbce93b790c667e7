"""Anomaly detection: a planted Friday-evening burst of grade changes is found with its
evidence; clean, generated working-hours data gives nothing."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.audit.domain.anomalies import AnomalyThresholds, detect, report_week
from services.audit.domain.audit_log import AuditDraft, ChainHead, PermissionDecision, Source, append_all
from services.audit.domain.errors import InvalidCommand

TENANT = "acme"
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = date(2026, 3, 9)  # a Monday, far from the month's end
THRESHOLDS = AnomalyThresholds()
FIELDS = ("contact_phone", "contact_name", "amount_cents", "next_step", "grade")


def draft(i: int, actor: str, at: datetime, *, entity: tuple[str, str] = ("account", "acct-1"), field="grade",
          before="B", after="A", decision=None, source=Source.API) -> AuditDraft:
    return AuditDraft(TENANT, f"ev-{i}", actor, ("rep",), entity[0], entity[1], field, before, after, at, source,
                      decision=decision)


def clean_week(seed: int = 7, reps: int = 20, edits_per_rep: int = 30) -> list[AuditDraft]:
    """Edits at random times in office hours (09:00-17:00 local, Monday-Friday); grades
    edited rarely."""
    rng = random.Random(seed)
    drafts = []
    for r in range(reps):
        grades = 0
        for _ in range(edits_per_rep):
            day = WEEK + timedelta(days=rng.randrange(5))
            at = datetime.combine(day, time(9), SHANGHAI) + timedelta(minutes=rng.randrange(8 * 60))
            field = rng.choice(FIELDS)
            if field == "grade":
                grades += 1
                if grades >= THRESHOLDS.max_grade_changes:
                    field = "contact_name"
            drafts.append(draft(len(drafts), f"rep-{r}", at, entity=("account", f"acct-{rng.randrange(200)}"), field=field))
    drafts.sort(key=lambda d: d.occurred_at)
    return drafts


def chained(drafts: list[AuditDraft]):
    renumbered = [AuditDraft(**{**d.__dict__, "event_id": f"ev-{i}"}) for i, d in enumerate(drafts)]
    return append_all(ChainHead.genesis(TENANT), renumbered)[0]


def weekly(records, thresholds=THRESHOLDS):
    since, until = report_week(WEEK, thresholds)
    return detect(records, tenant_id=TENANT, since=since, until=until, thresholds=thresholds)


def test_clean_generated_data_gives_no_finding():
    for seed in range(5):
        report = weekly(chained(clean_week(seed)))
        assert report.edits_examined == 600
        assert report.findings == (), report.findings


def test_a_planted_friday_evening_burst_of_grade_changes_is_found_with_its_evidence():
    burst_start = datetime.combine(WEEK + timedelta(days=4), time(17, 20), SHANGHAI)
    burst = [
        draft(0, "rep-3", burst_start + timedelta(minutes=6 * i), entity=("account", f"acct-{i}"), before="B", after="A")
        for i in range(12)
    ]
    records = chained(sorted(clean_week() + burst, key=lambda d: d.occurred_at))
    report = weekly(records)
    kinds = {(f.kind, f.actor_id) for f in report.findings}
    assert kinds == {("after_hours_friday", "rep-3"), ("grade_changes", "rep-3")}
    friday = next(f for f in report.findings if f.kind == "after_hours_friday")
    planted = {r.sequence for r in records if r.actor_id == "rep-3" and r.occurred_at >= burst_start}
    assert {e.sequence for e in friday.evidence} == planted
    assert friday.count == 12 and friday.share >= 0.5
    assert "Friday after 17:00 (Asia/Shanghai)" in friday.summary
    assert all(e.occurred_at.astimezone(SHANGHAI).weekday() == 4 for e in friday.evidence)


def test_friday_evening_is_the_tenants_time_not_utc():
    # 17:30 on Friday in Shanghai is 09:30 UTC: only the tenant's clock makes it late.
    friday_evening = datetime.combine(WEEK + timedelta(days=4), time(17, 30), SHANGHAI)
    records = chained([draft(i, "rep-1", friday_evening + timedelta(minutes=i), field="contact_name") for i in range(6)])
    assert [f.kind for f in weekly(records).findings] == ["after_hours_friday"]
    london = AnomalyThresholds(timezone="Europe/London")
    assert weekly(records, london).findings == ()


def test_period_end_concentration_is_found():
    month_end = date(2026, 3, 30)
    records = chained(
        [draft(i, "rep-2", datetime.combine(month_end, time(10), SHANGHAI) + timedelta(minutes=i), field="amount_cents",
               before=1, after=2) for i in range(6)]
        + [draft(9, "rep-2", datetime.combine(date(2026, 3, 24), time(10), SHANGHAI), field="contact_name")]
    )
    since = datetime.combine(date(2026, 3, 23), time(0), SHANGHAI)
    report = detect(records, tenant_id=TENANT, since=since, until=since + timedelta(days=14), thresholds=THRESHOLDS)
    assert [(f.kind, f.count) for f in report.findings] == [("period_end", 6)]


def test_edits_soon_after_close_are_found_on_the_opportunity_and_its_account():
    opened = datetime.combine(WEEK, time(10), SHANGHAI)
    records = chained(
        [
            draft(0, "rep-1", opened, entity=("opportunity", "opp-1"), field="", before=None,
                  after={"account_id": "acct-1", "stage": "proposal"}),
            draft(1, "rep-1", opened + timedelta(hours=1), entity=("opportunity", "opp-1"), field="stage",
                  before="negotiation", after="closed_won"),
            draft(2, "rep-1", opened + timedelta(hours=5), entity=("opportunity", "opp-1"), field="amount_cents",
                  before=1, after=2),
            draft(3, "rep-1", opened + timedelta(hours=6), entity=("account", "acct-1"), field="grade"),
            draft(4, "rep-1", opened + timedelta(hours=7), entity=("account", "acct-1"), field="contact_name",
                  before="a", after="b"),
            # long after: not "soon"
            draft(5, "rep-1", opened + timedelta(days=5), entity=("account", "acct-1"), field="contact_phone"),
        ]
    )
    (finding,) = weekly(records).findings
    assert finding.kind == "edits_after_close"
    assert [e.sequence for e in finding.evidence] == [3, 4, 5]


def test_permission_decisions_and_system_changes_are_not_edits():
    friday_evening = datetime.combine(WEEK + timedelta(days=4), time(18), SHANGHAI)
    denied = PermissionDecision(False, "grade-locked-after-closed-won", "SEC-SALES-2026-01", 1)
    records = chained(
        [draft(i, "rep-1", friday_evening + timedelta(minutes=i), decision=denied) for i in range(10)]
        + [draft(20 + i, "system", friday_evening + timedelta(minutes=i), source=Source.SYSTEM) for i in range(10)]
    )
    report = weekly(records)
    assert report.edits_examined == 0 and report.findings == ()


def test_thresholds_are_validated_and_the_week_starts_on_monday():
    with pytest.raises(InvalidCommand, match="timezone"):
        AnomalyThresholds(timezone="Mars/Olympus")
    with pytest.raises(InvalidCommand, match="min_edits"):
        AnomalyThresholds(min_edits=0)
    with pytest.raises(InvalidCommand, match="not a Monday"):
        report_week(WEEK + timedelta(days=1), THRESHOLDS)

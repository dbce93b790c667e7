"""Anomaly detection over the audit log: the patterns of the seed article's grade case
("83% of the changes came after 17:00 on Friday", grades edited after closed-won) and
their kin, each finding with the records that show it.

Findings, per actor and report period, on edits (records of a changed field made by a
person — not permission decisions, not the system's own changes):
- `after_hours_friday`: many of the actor's edits fall on Friday at or after 17:00, in
  the tenant's time zone (the "tidy up the report before the weekend" burst);
- `period_end`: many of the actor's edits fall in the last days of a month;
- `grade_changes`: the actor changed many customer grades;
- `edits_after_close`: the actor edited an opportunity, or its account, soon after the
  opportunity closed.
Every threshold is per-tenant configuration (`AnomalyThresholds`); the defaults follow
the article. Concentrations need both a share and a minimum count, so a rep with two
edits, one on a Friday evening, is not a finding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.audit.domain.audit_log import AuditRecord, Source
from services.audit.domain.errors import InvalidCommand

CLOSED_STAGES = frozenset({"closed_won", "closed_lost"})
FRIDAY = 4


@dataclass(frozen=True)
class AnomalyThresholds:
    timezone: str = "Asia/Shanghai"
    after_hours_start: time = time(17, 0)
    # A concentration is a finding when it holds at least this share of the actor's
    # edits in the period and at least `min_edits` of them.
    concentration_share: float = 0.5
    min_edits: int = 5
    period_end_days: int = 2
    max_grade_changes: int = 5
    grade_fields: frozenset[str] = frozenset({"grade"})
    soon_after_close: timedelta = timedelta(hours=72)
    min_edits_after_close: int = 3

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except Exception:
            raise InvalidCommand("timezone", f"{self.timezone!r} is not an IANA time zone") from None
        if not 0 < self.concentration_share <= 1:
            raise InvalidCommand("concentration_share", "must be in (0, 1]")
        for name in ("min_edits", "period_end_days", "max_grade_changes", "min_edits_after_close"):
            if getattr(self, name) < 1:
                raise InvalidCommand(name, "must be at least 1")
        if self.soon_after_close <= timedelta(0):
            raise InvalidCommand("soon_after_close", "must be positive")


@dataclass(frozen=True)
class Evidence:
    sequence: int
    occurred_at: datetime
    entity_type: str
    entity_id: str
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class Finding:
    kind: str
    actor_id: str
    summary: str
    # The records behind the finding, in chain order: an auditor opens each one.
    evidence: tuple[Evidence, ...]
    count: int
    share: float | None = None


@dataclass(frozen=True)
class AnomalyReport:
    tenant_id: str
    since: datetime
    until: datetime
    edits_examined: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)


def _is_edit(record: AuditRecord) -> bool:
    return record.decision is None and bool(record.field) and record.source != Source.SYSTEM


def _evidence(record: AuditRecord) -> Evidence:
    return Evidence(
        record.sequence, record.occurred_at, record.entity_type, record.entity_id, record.field, record.before, record.after
    )


def _last_days_of_month(day: date, days: int) -> bool:
    return (day + timedelta(days=days)).month != day.month


def detect(
    records: Iterable[AuditRecord], *, tenant_id: str, since: datetime, until: datetime, thresholds: AnomalyThresholds
) -> AnomalyReport:
    """Findings over the records with since <= occurred_at < until. Records before
    `since` are read too (in chain order) for context: an opportunity closed last week
    makes this week's edits to it 'soon after close'."""
    if since >= until:
        raise InvalidCommand("until", "must be later than since")
    zone = ZoneInfo(thresholds.timezone)
    closes: dict[tuple[str, str], datetime] = {}  # (entity type, id) -> when it closed
    account_of: dict[str, str] = {}  # opportunity -> account
    edits_by_actor: dict[str, list[AuditRecord]] = defaultdict(list)
    for record in records:
        if record.tenant_id != tenant_id:
            continue
        if record.entity_type == "opportunity" and record.decision is None:
            if record.field == "" and isinstance(record.after, dict) and isinstance(record.after.get("account_id"), str):
                account_of[record.entity_id] = record.after["account_id"]
            if record.field == "stage" and record.after in CLOSED_STAGES:
                closes[("opportunity", record.entity_id)] = record.occurred_at
                if record.entity_id in account_of:
                    closes[("account", account_of[record.entity_id])] = record.occurred_at
        if since <= record.occurred_at < until and _is_edit(record):
            edits_by_actor[record.actor_id].append(record)

    findings: list[Finding] = []
    for actor in sorted(edits_by_actor):
        edits = edits_by_actor[actor]
        local = [(r, r.occurred_at.astimezone(zone)) for r in edits]

        # Concentrations are judged per field: a burst of grade edits hides in a week
        # of routine contact updates when all fields are counted together.
        by_field: dict[str, list[tuple[AuditRecord, datetime]]] = defaultdict(list)
        for record, moment in local:
            by_field[record.field].append((record, moment))
        for field_name in sorted(by_field):
            of_field = by_field[field_name]
            friday = [r for r, t in of_field if t.weekday() == FRIDAY and t.time() >= thresholds.after_hours_start]
            finding = _concentration(
                "after_hours_friday",
                actor,
                field_name,
                friday,
                len(of_field),
                f"on Friday after {thresholds.after_hours_start:%H:%M} ({thresholds.timezone})",
                thresholds,
            )
            if finding:
                findings.append(finding)
            month_end = [r for r, t in of_field if _last_days_of_month(t.date(), thresholds.period_end_days)]
            finding = _concentration(
                "period_end",
                actor,
                field_name,
                month_end,
                len(of_field),
                f"in the last {thresholds.period_end_days} days of a month",
                thresholds,
            )
            if finding:
                findings.append(finding)

        grades = [r for r in edits if r.field in thresholds.grade_fields]
        if len(grades) >= thresholds.max_grade_changes:
            customers = len({(r.entity_type, r.entity_id) for r in grades})
            findings.append(
                Finding(
                    "grade_changes",
                    actor,
                    f"{actor} changed {len(grades)} customer grades ({customers} customers); the limit is "
                    f"{thresholds.max_grade_changes - 1} per period",
                    tuple(_evidence(r) for r in grades),
                    len(grades),
                )
            )

        after_close = [
            r
            for r in edits
            if (closed := closes.get((r.entity_type, r.entity_id))) is not None
            and r.field != "stage"
            and closed <= r.occurred_at <= closed + thresholds.soon_after_close
        ]
        if len(after_close) >= thresholds.min_edits_after_close:
            hours = thresholds.soon_after_close.total_seconds() / 3600
            findings.append(
                Finding(
                    "edits_after_close",
                    actor,
                    f"{actor} made {len(after_close)} edits to closed opportunities or their accounts within "
                    f"{hours:g} h of closing",
                    tuple(_evidence(r) for r in after_close),
                    len(after_close),
                )
            )
    examined = sum(len(v) for v in edits_by_actor.values())
    return AnomalyReport(tenant_id, since, until, examined, tuple(findings))


def _concentration(
    kind: str,
    actor: str,
    field_name: str,
    hits: list[AuditRecord],
    total: int,
    when: str,
    thresholds: AnomalyThresholds,
) -> Finding | None:
    if len(hits) < thresholds.min_edits or len(hits) / total < thresholds.concentration_share:
        return None
    return Finding(
        kind,
        actor,
        f"{actor} made {len(hits)} of {total} edits of {field_name} ({len(hits) / total:.0%}) {when}",
        tuple(_evidence(r) for r in hits),
        len(hits),
        len(hits) / total,
    )


def report_week(week_start: date, thresholds: AnomalyThresholds) -> tuple[datetime, datetime]:
    """The [since, until) of the local week starting on `week_start` (a Monday)."""
    if week_start.weekday() != 0:
        raise InvalidCommand("week_start", f"{week_start} is not a Monday")
    zone = ZoneInfo(thresholds.timezone)
    since = datetime.combine(week_start, time(0), zone)
    return since, datetime.combine(week_start + timedelta(days=7), time(0), zone)

"""Lead follow-up metrics per team: how long an assigned opportunity takes to reach its
next stage (the follow-up cycle, in days), and the share that got there within a week
of assignment (first-week conversion). A cohort is the tenant-local ISO week of
assignment; losing a deal is not following it up, so it never counts as advancing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.reporting.calendar import Week
from services.actions.domain.reporting.compliance import RepInfo
from services.actions.domain.reporting.expectations import (
    ADVANCED,
    ADVANCED_FIRST_WEEK,
    ASSIGNED,
    CYCLE_SECONDS,
    FIRST_WEEK,
)

_DAY_SECONDS = 86400


@dataclass(frozen=True)
class FollowUpMetrics:
    team_id: str
    week: Week
    assigned: int
    advanced: int
    advanced_first_week: int
    # Mean days from assignment to the next stage, over those that advanced.
    average_cycle_days: float | None
    first_week_conversion: float | None
    # True once every opportunity of the cohort has had its full first week.
    final: bool


def followup_metrics(
    *,
    week: Week,
    as_of: datetime,
    tz: ZoneInfo,
    reps: Iterable[RepInfo],
    counts: Mapping[str, Mapping[str, int]],
) -> list[FollowUpMetrics]:
    """One row per team with assignments in `week`; `counts` maps rep id -> metric."""
    if as_of.tzinfo is None:
        raise InvalidCommand("as_of", "must be timezone-aware")
    teams: dict[str, list[int]] = {}
    for rep in {r.rep_id: r for r in reps}.values():
        c = counts.get(rep.rep_id)
        if not c:
            continue
        sums = teams.setdefault(rep.team_id, [0, 0, 0, 0])
        for i, metric in enumerate((ASSIGNED, ADVANCED, ADVANCED_FIRST_WEEK, CYCLE_SECONDS)):
            sums[i] += int(c.get(metric, 0))
    final = as_of >= week.end(tz) + FIRST_WEEK
    rows = []
    for team_id, (assigned, advanced, first_week, cycle_seconds) in sorted(teams.items()):
        if not assigned:
            continue
        rows.append(
            FollowUpMetrics(
                team_id=team_id,
                week=week,
                assigned=assigned,
                advanced=advanced,
                advanced_first_week=first_week,
                average_cycle_days=round(cycle_seconds / advanced / _DAY_SECONDS, 2) if advanced else None,
                first_week_conversion=round(first_week / assigned, 4),
                final=final,
            )
        )
    return rows

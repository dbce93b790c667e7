"""The weekly action-compliance report: per rep and per team, the share of mandatory
template actions done by their due time, a red/yellow/green status against the
tenant's thresholds, the trend against the previous week, and every missing action.

Input is what the stream keeps per rep and week (`expectations.Count` metrics, the
number of open expectations not due yet, and — only for the reps a drill-down is asked
for — their missing-action rows), never the raw action records, so the report costs
the same for five thousand actions or five million.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.reporting.calendar import Week
from services.actions.domain.reporting.expectations import (
    DONE_LATE,
    DONE_ON_TIME,
    DUE,
    WITHDRAWN,
    MissingEntry,
)

UNASSIGNED_TEAM = ""


class Status(str, Enum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    # Nothing fell due: no rate, and no colour a manager would act on.
    NO_DATA = "no_data"


class Trend(str, Enum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    # No rate in one of the two weeks.
    NONE = "none"


@dataclass(frozen=True)
class Thresholds:
    """Green at or above `green`, yellow at or above `yellow`, red below (shares 0-1)."""

    green: float = 0.85
    yellow: float = 0.70

    def __post_init__(self) -> None:
        for name in ("green", "yellow"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InvalidCommand(f"thresholds.{name}", f"must be a share between 0 and 1; got {value!r}")
        if self.yellow > self.green:
            raise InvalidCommand("thresholds.yellow", f"must not be above green ({self.green}); got {self.yellow}")

    def status(self, rate: float | None) -> Status:
        if rate is None:
            return Status.NO_DATA
        if rate >= self.green:
            return Status.GREEN
        if rate >= self.yellow:
            return Status.YELLOW
        return Status.RED


@dataclass(frozen=True)
class RepInfo:
    rep_id: str
    display_name: str
    team_id: str


@dataclass(frozen=True)
class Tally:
    due: int = 0
    done_on_time: int = 0
    done_late: int = 0
    withdrawn: int = 0
    # Open expectations not due yet at the report time (only in a week still running).
    pending: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int], pending: int = 0) -> "Tally":
        return cls(
            due=int(counts.get(DUE, 0)),
            done_on_time=int(counts.get(DONE_ON_TIME, 0)),
            done_late=int(counts.get(DONE_LATE, 0)),
            withdrawn=int(counts.get(WITHDRAWN, 0)),
            pending=pending,
        )

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            self.due + other.due,
            self.done_on_time + other.done_on_time,
            self.done_late + other.done_late,
            self.withdrawn + other.withdrawn,
            self.pending + other.pending,
        )

    @property
    def counted(self) -> int:
        """Expectations whose due time has passed and that were not withdrawn."""
        return max(0, self.due - self.withdrawn - self.pending)

    @property
    def missing(self) -> int:
        return max(0, self.counted - self.done_on_time)

    @property
    def rate(self) -> float | None:
        return self.done_on_time / self.counted if self.counted else None


@dataclass(frozen=True)
class Line:
    """One rep's or one team's row."""

    tally: Tally
    status: Status
    previous_rate: float | None
    trend: Trend
    # Percentage points against the previous week, rounded to 0.1.
    trend_points: float | None

    @property
    def rate(self) -> float | None:
        return self.tally.rate


def _line(tally: Tally, previous: Tally, thresholds: Thresholds) -> Line:
    rate, before = tally.rate, previous.rate
    if rate is None or before is None:
        return Line(tally, thresholds.status(rate), before, Trend.NONE, None)
    points = round((rate - before) * 100, 1)
    trend = Trend.UP if points > 0 else Trend.DOWN if points < 0 else Trend.FLAT
    return Line(tally, thresholds.status(rate), before, trend, points)


@dataclass(frozen=True)
class RepLine:
    rep: RepInfo
    line: Line
    missing_actions: tuple[MissingEntry, ...]


@dataclass(frozen=True)
class TeamLine:
    team_id: str
    rep_ids: tuple[str, ...]
    line: Line


@dataclass(frozen=True)
class ComplianceReport:
    tenant_id: str
    week: Week
    as_of: datetime
    thresholds: Thresholds
    reps: tuple[RepLine, ...]
    teams: tuple[TeamLine, ...]
    total: Line
    # False when the report carries counts only (a tenant-wide summary): each rep's
    # missing actions are then a drill-down of their own.
    missing_included: bool = True

    @property
    def complete(self) -> bool:
        """False while the week is still running (rates may still move)."""
        return not any(r.line.tally.pending for r in self.reps)


def compliance_report(
    *,
    tenant_id: str,
    week: Week,
    as_of: datetime,
    tz: ZoneInfo,
    reps: Iterable[RepInfo],
    counts: Mapping[str, Mapping[str, int]],
    previous_counts: Mapping[str, Mapping[str, int]],
    pending: Mapping[str, int],
    drilldown: Iterable[MissingEntry] | None,
    thresholds: Thresholds,
) -> ComplianceReport:
    """The report for `week` as of `as_of`, over the reps given (the caller decides
    who may be seen). `counts`/`previous_counts` map rep id -> metric -> value for the
    week and the week before; `pending` rep id -> open expectations due after `as_of`;
    `drilldown` holds the open and late rows of the reps whose missing actions are
    wanted (None: a summary without them)."""
    if as_of.tzinfo is None:
        raise InvalidCommand("as_of", "must be timezone-aware")
    if week.start(tz) > as_of:
        raise InvalidCommand("week", f"{week} has not started yet (as of {as_of.astimezone(tz).date()})")
    roster = sorted({r.rep_id: r for r in reps}.values(), key=lambda r: (r.team_id, r.rep_id))
    wanted = {r.rep_id for r in roster}
    rows: dict[str, list[MissingEntry]] = {r: [] for r in wanted}
    for entry in drilldown or ():
        if entry.rep_id not in wanted or entry.week != week:
            continue
        if entry.done_late_at is not None or entry.due <= as_of:
            rows[entry.rep_id].append(entry)
    rep_lines: list[RepLine] = []
    team_tallies: dict[str, tuple[list[str], Tally, Tally]] = {}
    for rep in roster:
        tally = Tally.of(counts.get(rep.rep_id, {}), pending.get(rep.rep_id, 0))
        before = Tally.of(previous_counts.get(rep.rep_id, {}))
        missing = tuple(sorted(rows[rep.rep_id], key=lambda e: (e.due, e.opportunity_id, e.action_id)))
        rep_lines.append(RepLine(rep, _line(tally, before, thresholds), missing))
        members, now_sum, before_sum = team_tallies.get(rep.team_id, ([], Tally(), Tally()))
        team_tallies[rep.team_id] = ([*members, rep.rep_id], now_sum + tally, before_sum + before)
    teams = tuple(
        TeamLine(team_id, tuple(members), _line(now_sum, before_sum, thresholds))
        for team_id, (members, now_sum, before_sum) in sorted(team_tallies.items())
    )
    total_now = sum((t.line.tally for t in teams), Tally())
    total_before = sum((Tally.of(previous_counts.get(r.rep_id, {})) for r in roster), Tally())
    return ComplianceReport(
        tenant_id=tenant_id,
        week=week,
        as_of=as_of,
        thresholds=thresholds,
        reps=tuple(rep_lines),
        teams=teams,
        total=_line(total_now, total_before, thresholds),
        missing_included=drilldown is not None,
    )


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _line_dict(line: Line) -> dict:
    t = line.tally
    return {
        "due": t.due,
        "counted": t.counted,
        "done_on_time": t.done_on_time,
        "done_late": t.done_late,
        "missing": t.missing,
        "pending": t.pending,
        "withdrawn": t.withdrawn,
        "completion_rate_percent": _percent(t.rate),
        "status": line.status.value,
        "previous_rate_percent": _percent(line.previous_rate),
        "trend": line.trend.value,
        "trend_points": line.trend_points,
    }


def _entry_dict(entry: MissingEntry) -> dict:
    return {
        "opportunity_id": entry.opportunity_id,
        "opportunity_name": entry.opportunity_name,
        "stage": entry.stage,
        "action_id": entry.action_id,
        "action_name": {"en": entry.action_name_en, "zh": entry.action_name_zh},
        "due": entry.due.isoformat(),
        "done_late_at": entry.done_late_at.isoformat() if entry.done_late_at else None,
    }


def report_to_dict(report: ComplianceReport) -> dict:
    """The JSON form (also what CSV and XLSX are made from)."""
    return {
        "tenant_id": report.tenant_id,
        "week": str(report.week),
        "as_of": report.as_of.isoformat(),
        "complete": report.complete,
        "missing_actions_included": report.missing_included,
        "thresholds": {
            "green_percent": round(report.thresholds.green * 100, 1),
            "yellow_percent": round(report.thresholds.yellow * 100, 1),
        },
        "total": _line_dict(report.total),
        "teams": [{"team_id": t.team_id, "rep_ids": list(t.rep_ids), **_line_dict(t.line)} for t in report.teams],
        "reps": [
            {
                "rep_id": r.rep.rep_id,
                "display_name": r.rep.display_name,
                "team_id": r.rep.team_id,
                **_line_dict(r.line),
                **({"missing_actions": [_entry_dict(e) for e in r.missing_actions]} if report.missing_included else {}),
            }
            for r in report.reps
        ],
    }


TABLE_COLUMNS = (
    "scope",
    "team_id",
    "rep_id",
    "rep_name",
    "due",
    "counted",
    "done_on_time",
    "done_late",
    "missing",
    "pending",
    "withdrawn",
    "completion_rate_percent",
    "status",
    "previous_rate_percent",
    "trend",
    "trend_points",
    "opportunity_id",
    "opportunity_name",
    "stage",
    "action_id",
    "action_name",
    "action_due",
    "done_late_at",
)
_LINE_COLUMNS = TABLE_COLUMNS[4:16]


def report_rows(report: ComplianceReport) -> list[tuple]:
    """One flat table for CSV and spreadsheets: a `total` row, one `team` row per team,
    one `rep` row per rep followed by that rep's `missing_action` rows (when the
    report carries them)."""

    def line_cells(line: Line) -> tuple:
        d = _line_dict(line)
        return tuple(d[c] for c in _LINE_COLUMNS)

    blank_action = (None,) * 7
    rows: list[tuple] = [("total", None, None, None, *line_cells(report.total), *blank_action)]
    rows += [("team", t.team_id, None, None, *line_cells(t.line), *blank_action) for t in report.teams]
    for r in report.reps:
        rows.append(("rep", r.rep.team_id, r.rep.rep_id, r.rep.display_name, *line_cells(r.line), *blank_action))
        for e in r.missing_actions:
            rows.append(
                (
                    "missing_action",
                    r.rep.team_id,
                    r.rep.rep_id,
                    r.rep.display_name,
                    *((None,) * len(_LINE_COLUMNS)),
                    e.opportunity_id,
                    e.opportunity_name,
                    e.stage,
                    e.action_id,
                    f"{e.action_name_zh} / {e.action_name_en}",
                    e.due.isoformat(),
                    e.done_late_at.isoformat() if e.done_late_at else None,
                )
            )
    return rows

"""Real-time process health indicators (article: 过程指标仪表盘), one tenant per instance.

Each aggregator is incremental: `apply(event)` updates it and returns how the event was admitted
(accepted / duplicate / too_late, see windows.py); `value(...)` returns an `Indicator` with its
red/yellow/green state, the threshold, and a drill-down naming the raw events (ids and times) that
produced the number. Values are pure functions of the admitted events and the watermark, so
replaying the same events into fresh state gives the same indicators.

States of share indicators (`classify_share`, exact rational arithmetic, no float edge errors):
  green  share >= healthy;  yellow  healthy - yellow_band <= share < healthy;  red  below that;
  no_data when the window holds nothing to measure.

Windowed indicators (lead response, stage progression, forecast A/B) use calendar days in the
tenant's time zone by default; pass another assigner (WeekWindows, FixedWindows) to change that.
Customer data completeness is a current snapshot (not windowed): each field is last-writer-wins by
event time, so late events land where they belong and are never too late.
Effective visits per rep per day consume `VisitVerdict`s (derived from the visit tracker, which
applies the lateness rule to the raw events); a revised verdict replaces the earlier one.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from fractions import Fraction
from typing import Iterable, Optional, Union
from zoneinfo import ZoneInfo

from services.pulse.domain.events import (
    CustomerChanged,
    FieldValue,
    ForecastGraded,
    LeadAssigned,
    LeadResponded,
    check_tenant,
    is_present,
)
from services.pulse.domain.thresholds import DEFAULT_THRESHOLDS, PulseThresholds
from services.pulse.domain.visits import VisitVerdict
from services.pulse.domain.windows import (
    Admission,
    DayWindows,
    EventTimeGate,
    LateEvent,
    WindowAssigner,
    fmt_minutes,
)


class HealthState(str, Enum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NO_DATA = "no_data"


_SEVERITY = {HealthState.NO_DATA: 0, HealthState.GREEN: 1, HealthState.YELLOW: 2, HealthState.RED: 3}


def worst(states: Iterable[HealthState]) -> HealthState:
    return max(states, key=_SEVERITY.__getitem__, default=HealthState.NO_DATA)


@dataclass(frozen=True, order=True)
class EventRef:
    at: datetime
    event_id: str


@dataclass(frozen=True)
class DrillDown:
    subject: str
    detail: str
    events: tuple[EventRef, ...]


@dataclass(frozen=True)
class Indicator:
    name: str
    scope: str  # "team" or "rep:<id>"
    window: str  # window key ("2026-11-27"), "" for snapshots
    value: Optional[float]
    state: HealthState
    threshold: float
    details: tuple[tuple[str, object], ...]
    drill_down: tuple[DrillDown, ...]
    too_late: tuple[LateEvent, ...] = ()

    def detail(self, key: str) -> object:
        return dict(self.details)[key]


def _exact(x: float) -> Fraction:
    return Fraction(str(x))


def classify_share(numerator: int, denominator: int, healthy: float, yellow_band: float) -> HealthState:
    if denominator == 0:
        return HealthState.NO_DATA
    share = Fraction(numerator, denominator)
    if share >= _exact(healthy):
        return HealthState.GREEN
    if share >= _exact(healthy) - _exact(yellow_band):
        return HealthState.YELLOW
    return HealthState.RED


def nearest_rank(sorted_values: list, p: float):
    """Nearest-rank percentile of an ascending list: an actually observed value (so it drills down to
    one event), no interpolation."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(_exact(p) * len(sorted_values)))
    return sorted_values[rank - 1]


def _key(e) -> tuple[datetime, str]:
    return (e.at, e.event_id)


def _scope(rep_id: Optional[str]) -> str:
    return "team" if rep_id is None else f"rep:{rep_id}"


class _Windowed:
    name = ""

    def __init__(
        self,
        tenant_id: str,
        tz: ZoneInfo,
        thresholds: PulseThresholds = DEFAULT_THRESHOLDS,
        assigner: Optional[WindowAssigner] = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.tz = tz
        self.thresholds = thresholds
        self.assigner = assigner or DayWindows(tz)
        # Event time runs per input stream (`event.stream`, one source partition): whether an
        # event is too late then depends on its stream's order alone, which every reading of
        # the log (live, a replay, another worker) sees the same, however it interleaves them.
        self._gates: dict[str, EventTimeGate] = {}
        self._seen: set[str] = set()

    def _admit(self, event) -> Admission:
        check_tenant(self.tenant_id, event.tenant_id, event.event_id)
        gate = self._gates.get(event.stream)
        if gate is None:
            gate = self._gates[event.stream] = EventTimeGate(
                self.assigner, self.thresholds.lateness_allowance, seen=self._seen
            )
        return gate.admit(event.event_id, event.at)

    @property
    def watermark(self) -> Optional[datetime]:
        """The latest event time seen, over every stream (what makes a lead overdue)."""
        return max((g.watermark for g in self._gates.values() if g.watermark is not None), default=None)

    @property
    def too_late(self) -> tuple[LateEvent, ...]:
        return tuple(sorted((e for g in self._gates.values() for e in g.too_late), key=lambda e: (e.at, e.event_id)))

    def _late_in(self, window_key: str) -> tuple[LateEvent, ...]:
        return tuple(e for e in self.too_late if e.window_key == window_key)


# ---------------------------------------------------------------------------------------------
# Lead response (article: 线索响应时效 ≤15分钟)
# ---------------------------------------------------------------------------------------------
class LeadResponseIndicator(_Windowed):
    """A lead belongs to the window of its first assignment and to the rep of that assignment; its
    response time runs from that assignment to its first response (by anyone; the customer waits for
    the team). A lead unanswered when the watermark passes assignment + limit counts as outside the
    limit (`overdue`); a lead neither answered nor overdue is `pending` and not counted yet.
    value = share answered within the limit (≤ limit) of answered + overdue leads; p50/p90 are
    nearest-rank over answered leads' response times in minutes."""

    name = "lead_response"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._assigned: dict[str, list[LeadAssigned]] = {}
        self._responses: dict[str, list[LeadResponded]] = {}
        self._leads_by_window: dict[str, set[str]] = {}  # window of the lead's first assignment
        # (first assignment + limit, lead): when the watermark makes an unanswered lead overdue.
        # Entries of leads answered or re-dated since are skipped when they come up.
        self._deadlines: list[tuple[datetime, str]] = []

    def apply(self, event: Union[LeadAssigned, LeadResponded]) -> Admission:
        admission = self._admit(event)
        if admission is Admission.ACCEPTED:
            target = self._assigned if isinstance(event, LeadAssigned) else self._responses
            earlier = self._assigned.get(event.lead_id, [None])[0]
            target.setdefault(event.lead_id, []).append(event)
            target[event.lead_id].sort(key=_key)
            first = self._assigned.get(event.lead_id, [None])[0]
            if first is not earlier:
                if earlier is not None:
                    self._leads_by_window[self.assigner.window_of(earlier.at).key].discard(event.lead_id)
                self._leads_by_window.setdefault(self.assigner.window_of(first.at).key, set()).add(event.lead_id)
                heapq.heappush(self._deadlines, (first.at + self.thresholds.lead_response_limit, event.lead_id))
        return admission

    def newly_overdue(self) -> list[tuple[str, str]]:
        """(window, rep) of each lead the watermark made overdue since the last call: those
        values change with no event of their own (an unanswered lead counts once its limit
        has passed), so whoever publishes them must be told."""
        found = []
        watermark = self.watermark
        deadlines = self._deadlines
        limit = self.thresholds.lead_response_limit
        while deadlines and watermark is not None and deadlines[0][0] <= watermark:
            due, lead_id = heapq.heappop(deadlines)
            first = self._assigned[lead_id][0]
            if first.at + limit == due and not self._responses.get(lead_id):
                found.append((self.assigner.window_of(first.at).key, first.rep_id))
        return found

    def reps(self) -> set[str]:
        return {assignments[0].rep_id for assignments in self._assigned.values()}

    def window_and_rep_of(self, lead_id: str) -> Optional[tuple[str, str]]:
        """The window and rep a lead counts for (its first assignment), once assigned."""
        assignments = self._assigned.get(lead_id)
        if not assignments:
            return None
        return self.assigner.window_of(assignments[0].at).key, assignments[0].rep_id

    def windows(self) -> tuple[str, ...]:
        return tuple(sorted(key for key, leads in self._leads_by_window.items() if leads))

    def value(self, window_key: str, rep_id: Optional[str] = None) -> Indicator:
        th = self.thresholds
        limit = th.lead_response_limit
        watermark = self.watermark
        answered: list[tuple[timedelta, str]] = []
        within = overdue = pending = 0
        drill: list[DrillDown] = []
        in_window = self._leads_by_window.get(window_key, set())
        for lead_id, assignments in sorted(
            ((lead, self._assigned[lead]) for lead in in_window), key=lambda kv: _key(kv[1][0])
        ):
            first = assignments[0]
            if rep_id is not None and first.rep_id != rep_id:
                continue
            refs = [EventRef(a.at, a.event_id) for a in assignments]
            responses = self._responses.get(lead_id, [])
            if responses:
                response = responses[0]
                took = max(timedelta(0), response.at - first.at)
                answered.append((took, lead_id))
                ok = took <= limit
                within += ok
                refs.append(EventRef(response.at, response.activity_id or response.event_id))
                detail = (
                    f"assigned to rep {first.rep_id}; answered by rep {response.rep_id} in {fmt_minutes(took)}"
                    f" ({'within' if ok else 'over'} the {fmt_minutes(limit)} limit)"
                )
            elif watermark is not None and watermark >= first.at + limit:
                overdue += 1
                detail = f"assigned to rep {first.rep_id}; unanswered after the {fmt_minutes(limit)} limit"
            else:
                pending += 1
                detail = f"assigned to rep {first.rep_id}; unanswered, limit not reached yet"
            drill.append(DrillDown(subject=f"lead {lead_id}", detail=detail, events=tuple(refs)))
        counted = len(answered) + overdue
        minutes = sorted(t.total_seconds() / 60 for t, _ in answered)
        state = classify_share(within, counted, th.lead_response_healthy_share, th.yellow_band)
        return Indicator(
            name=self.name,
            scope=_scope(rep_id),
            window=window_key,
            value=None if counted == 0 else within / counted,
            state=state,
            threshold=th.lead_response_healthy_share,
            details=(
                ("limit_minutes", limit.total_seconds() / 60),
                ("p50_minutes", nearest_rank(minutes, 0.5)),
                ("p90_minutes", nearest_rank(minutes, 0.9)),
                ("answered", len(answered)),
                ("within_limit", within),
                ("overdue_unanswered", overdue),
                ("pending", pending),
            ),
            drill_down=tuple(drill),
            too_late=self._late_in(window_key),
        )


class _KeptEvents(_Windowed):
    """An indicator that keeps every accepted event and recomputes its windows from them
    (small per-window volumes; keeping them is what makes every number drill down)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._by_window: dict[str, list] = {}
        self._reps: set[str] = set()

    def apply(self, event) -> Admission:
        admission = self._admit(event)
        if admission is Admission.ACCEPTED:
            self._by_window.setdefault(self.assigner.window_of(event.at).key, []).append(event)
            self._reps.add(event.rep_id)
        return admission

    def reps(self) -> set[str]:
        return set(self._reps)

    def window_of(self, event) -> str:
        return self.assigner.window_of(event.at).key

    def windows(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_window))


# ---------------------------------------------------------------------------------------------
# Stage progression completeness (article: 阶段推进完整率 ≥92%)
# ---------------------------------------------------------------------------------------------
class StageProgressionIndicator(_KeptEvents):
    """value = share of stage changes in the window whose left stage had every mandatory action
    verified (the flag comes with the event, actions owns it)."""

    name = "stage_progression_completeness"

    def value(self, window_key: str, rep_id: Optional[str] = None) -> Indicator:
        th = self.thresholds
        chosen = sorted(
            (e for e in self._by_window.get(window_key, ()) if rep_id is None or e.rep_id == rep_id),
            key=_key,
        )
        complete = sum(e.with_all_mandatory_verified for e in chosen)
        drill = tuple(
            DrillDown(
                subject=f"opportunity {e.opportunity_id}",
                detail=(
                    f"{e.from_stage or '?'} → {e.to_stage} by rep {e.rep_id}: "
                    + (
                        "all mandatory actions verified"
                        if e.with_all_mandatory_verified
                        else "mandatory actions NOT all verified"
                    )
                ),
                events=(EventRef(e.at, e.event_id),),
            )
            for e in chosen
        )
        return Indicator(
            name=self.name,
            scope=_scope(rep_id),
            window=window_key,
            value=None if not chosen else complete / len(chosen),
            state=classify_share(complete, len(chosen), th.stage_progression_healthy, th.yellow_band),
            threshold=th.stage_progression_healthy,
            details=(("stage_changes", len(chosen)), ("complete", complete)),
            drill_down=drill,
            too_late=self._late_in(window_key),
        )


# ---------------------------------------------------------------------------------------------
# Forecast credibility (article: 商机预测可信度 A/B级 ≥75%)
# ---------------------------------------------------------------------------------------------
class ForecastCredibilityIndicator(_KeptEvents):
    """value = share of opportunities whose latest grade (by event time) in the window is A or B."""

    name = "forecast_ab_share"

    def value(self, window_key: str, rep_id: Optional[str] = None) -> Indicator:
        th = self.thresholds
        by_opp: dict[str, list[ForecastGraded]] = {}
        for e in self._by_window.get(window_key, ()):
            by_opp.setdefault(e.opportunity_id, []).append(e)
        drill: list[DrillDown] = []
        ab = counted = 0
        for opp, grades in sorted(by_opp.items()):
            grades.sort(key=_key)
            latest = grades[-1]
            if rep_id is not None and latest.rep_id != rep_id:
                continue
            counted += 1
            ab += latest.grade in ("A", "B")
            superseded = f" (latest of {len(grades)})" if len(grades) > 1 else ""
            drill.append(
                DrillDown(
                    subject=f"opportunity {opp}",
                    detail=f"grade {latest.grade}{superseded}, rep {latest.rep_id}",
                    events=tuple(EventRef(g.at, g.event_id) for g in grades),
                )
            )
        return Indicator(
            name=self.name,
            scope=_scope(rep_id),
            window=window_key,
            value=None if counted == 0 else ab / counted,
            state=classify_share(ab, counted, th.forecast_ab_healthy, th.yellow_band),
            threshold=th.forecast_ab_healthy,
            details=(("graded_opportunities", counted), ("a_or_b", ab)),
            drill_down=tuple(drill),
            too_late=self._late_in(window_key),
        )


# ---------------------------------------------------------------------------------------------
# Customer data completeness (article: 客户资料完备度 ≥88%, 缺失字段实时标红)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerUpdate:
    admission: Admission
    customer_id: str
    missing: tuple[str, ...] = ()
    newly_missing: tuple[str, ...] = ()
    newly_filled: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.missing)


class CustomerDataCompleteness:
    """Which fields count is `thresholds.required_customer_fields`. value = filled required fields /
    (customers × required fields); `complete_customers` is in the details. Each field is
    last-writer-wins by (event time, event id), so any arrival order gives the same snapshot; every
    accepted change returns the customer's missing fields at once (flag them in the UI)."""

    name = "customer_data_completeness"

    def __init__(self, tenant_id: str, thresholds: PulseThresholds = DEFAULT_THRESHOLDS) -> None:
        self.tenant_id = tenant_id
        self.thresholds = thresholds
        self._seen: set[str] = set()
        self.duplicates = 0
        # customer -> field -> (at, event_id, value)
        self._fields: dict[str, dict[str, tuple[datetime, str, FieldValue]]] = {}
        self._events: dict[str, list[CustomerChanged]] = {}

    def apply(self, event: CustomerChanged) -> CustomerUpdate:
        check_tenant(self.tenant_id, event.tenant_id, event.event_id)
        if event.event_id in self._seen:
            self.duplicates += 1
            return CustomerUpdate(Admission.DUPLICATE, event.customer_id, self.missing_fields(event.customer_id))
        self._seen.add(event.event_id)
        before = set(self.missing_fields(event.customer_id)) if event.customer_id in self._fields else None
        current = self._fields.setdefault(event.customer_id, {})
        self._events.setdefault(event.customer_id, []).append(event)
        for name, value in event.fields.items():
            prior = current.get(name)
            if prior is None or (event.at, event.event_id) > (prior[0], prior[1]):
                current[name] = (event.at, event.event_id, value)
        missing = self.missing_fields(event.customer_id)
        was = before if before is not None else set()
        return CustomerUpdate(
            admission=Admission.ACCEPTED,
            customer_id=event.customer_id,
            missing=missing,
            newly_missing=tuple(f for f in missing if f not in was) if before is not None else missing,
            newly_filled=tuple(f for f in self.thresholds.required_customer_fields if f in was and f not in missing),
        )

    def missing_fields(self, customer_id: str) -> tuple[str, ...]:
        current = self._fields.get(customer_id, {})
        return tuple(
            f for f in self.thresholds.required_customer_fields if f not in current or not is_present(current[f][2])
        )

    def customer_value(self, customer_id: str) -> Indicator:
        """One customer's completeness: its share of required fields filled, and what is missing."""
        th = self.thresholds
        required = th.required_customer_fields
        missing = self.missing_fields(customer_id)
        current = self._fields.get(customer_id, {})
        filled = len(required) - len(missing)
        refs = tuple(sorted({EventRef(current[f][0], current[f][1]) for f in required if f in current}))
        return Indicator(
            name=self.name,
            scope=f"customer:{customer_id}",
            window="",
            value=filled / len(required),
            state=classify_share(filled, len(required), th.customer_data_healthy, th.yellow_band),
            threshold=th.customer_data_healthy,
            details=(("missing_fields", missing), ("required_fields", required)),
            drill_down=(
                DrillDown(
                    subject=f"customer {customer_id}",
                    detail=("missing: " + ", ".join(missing)) if missing else "complete",
                    events=refs,
                ),
            ),
        )

    def incomplete_customers(self) -> dict[str, tuple[str, ...]]:
        return {c: m for c in sorted(self._fields) if (m := self.missing_fields(c))}

    def value(self) -> Indicator:
        th = self.thresholds
        required = th.required_customer_fields
        total = len(self._fields) * len(required)
        filled = 0
        complete = 0
        drill: list[DrillDown] = []
        for customer in sorted(self._fields):
            missing = self.missing_fields(customer)
            filled += len(required) - len(missing)
            complete += not missing
            current = self._fields[customer]
            refs = {EventRef(current[f][0], current[f][1]) for f in required if f in current}
            last = max(self._events[customer], key=_key)
            refs.add(EventRef(last.at, last.event_id))
            drill.append(
                DrillDown(
                    subject=f"customer {customer}",
                    detail=("missing: " + ", ".join(missing)) if missing else "complete",
                    events=tuple(sorted(refs)),
                )
            )
        return Indicator(
            name=self.name,
            scope="team",
            window="",
            value=None if total == 0 else filled / total,
            state=classify_share(filled, total, th.customer_data_healthy, th.yellow_band),
            threshold=th.customer_data_healthy,
            details=(
                ("customers", len(self._fields)),
                ("complete_customers", complete),
                ("fields_filled", filled),
                ("fields_required", total),
                ("required_fields", required),
            ),
            drill_down=tuple(drill),
        )


# ---------------------------------------------------------------------------------------------
# Effective visits per rep per day (article: 连续3天拜访量<2次自动标黄)
# ---------------------------------------------------------------------------------------------
_NO_COUNTS: dict[date, int] = {}
_ONE_DAY = timedelta(days=1)


class EffectiveVisitsIndicator:
    """Counts effective visits per rep per calendar day in the tenant's time zone (the day of the
    check-in). `value(rep, day)` is that day's count; the state is yellow when each of the last
    `low_visit_days_for_yellow` working days up to and including `day` (non-working days are
    skipped: they neither count nor break a streak) has fewer than `min_effective_visits_per_day`
    effective visits, otherwise green. A day with no verdict for the rep counts as 0, but days
    before the history start (`history_start`, default: the rep's first day with a visit; for a
    rep with none, known only from the roster, the first such day of any rep) are unknown: a
    streak reaching before it stays green. The default is the rep's own, not the tenant's, so
    the numbers of a rep with visits depend on that rep's events alone — whichever worker holds
    the rep's partition computes them, whatever other reps it holds. Evaluate days that are
    over (e.g. yesterday, once its window has closed); today's partial count would otherwise
    count as a low day."""

    name = "effective_visits_per_rep_per_day"

    def __init__(
        self,
        tenant_id: str,
        tz: ZoneInfo,
        thresholds: PulseThresholds = DEFAULT_THRESHOLDS,
        history_start: Optional[date] = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.tz = tz
        self.thresholds = thresholds
        self.history_start = history_start
        self._days = DayWindows(tz)
        self._verdicts: dict[str, VisitVerdict] = {}
        self._by_rep_day: dict[tuple[str, date], dict[str, VisitVerdict]] = {}
        # rep -> day -> effective visits, kept with _by_rep_day. Nested rather than keyed by
        # (rep, day): a dict of plain values that fresh tuple keys keep re-tracking would be
        # re-scanned by every garbage collection (see the worker's LongLivedHeap).
        self._effective_count: dict[str, dict[date, int]] = {}
        self._first_day: dict[str, date] = {}  # per rep
        self._first_day_of_any: Optional[date] = None
        self._streaks: dict[date, tuple[date, ...]] = {}

    def apply(self, verdict: VisitVerdict) -> tuple[date, ...]:
        """A verdict for a visit already seen replaces it (verdicts are revised as late events
        arrive). Returns the rep's days whose value or state may now read differently: none
        when the revision only added evidence or decided the visit (most revisions); else the
        visit's day and the later days whose streak reaches back to it — a day's state
        depends on the days before it, so they change with it."""
        check_tenant(self.tenant_id, verdict.tenant_id, verdict.visit_id)
        rep_id = verdict.rep_id
        earlier = self._verdicts.get(verdict.visit_id)
        if earlier is not None:
            earlier_day = self._days.day_of(earlier.started_at)
            removed = self._by_rep_day[(earlier.rep_id, earlier_day)].pop(earlier.visit_id, None)
            if removed is not None and earlier.effective:
                self._effective_count[earlier.rep_id][earlier_day] -= 1
        self._verdicts[verdict.visit_id] = verdict
        day = self._days.day_of(verdict.started_at)
        self._by_rep_day.setdefault((rep_id, day), {})[verdict.visit_id] = verdict
        if verdict.effective:
            counts = self._effective_count.setdefault(rep_id, {})
            counts[day] = counts.get(day, 0) + 1
        if self._first_day_of_any is None or day < self._first_day_of_any:
            self._first_day_of_any = day
        first = self._first_day.get(rep_id)
        if first is None or day < first:
            self._first_day[rep_id] = day
            if first is not None and self.history_start is None:
                # Days whose streak reached before the old first day were green for not being
                # known; the streak through the working day before it now reads them.
                return self._reading(rep_id, day) + self._reading(rep_id, self._working_day_before(first))
        if earlier is not None and earlier.effective == verdict.effective:
            return ()
        return self._reading(rep_id, day)

    def _reading(self, rep_id: str, day: date) -> tuple[date, ...]:
        """`day` and the rep's later days whose streak includes it, of those with visits (the
        days the indicator is reported for)."""
        th = self.thresholds
        found = [day] if self._by_rep_day.get((rep_id, day)) else []
        if day.weekday() not in th.working_weekdays:
            return tuple(found)  # a non-working day is in no streak
        later, working_after = day, 0
        while True:
            later += _ONE_DAY
            if later.weekday() in th.working_weekdays:
                working_after += 1
                if working_after >= th.low_visit_days_for_yellow:
                    return tuple(found)
            if self._by_rep_day.get((rep_id, later)):
                found.append(later)

    def _working_day_before(self, day: date) -> date:
        before = day - _ONE_DAY
        while before.weekday() not in self.thresholds.working_weekdays:
            before -= _ONE_DAY
        return before

    def reps(self) -> tuple[str, ...]:
        return tuple(sorted({rep for (rep, _), visits in self._by_rep_day.items() if visits}))

    def day_of(self, verdict: VisitVerdict) -> date:
        return self._days.day_of(verdict.started_at)

    def _effective_on(self, rep_id: str, day: date) -> list[VisitVerdict]:
        return sorted(
            (v for v in self._by_rep_day.get((rep_id, day), {}).values() if v.effective),
            key=lambda v: (v.started_at, v.visit_id),
        )

    def _streak_days(self, day: date) -> tuple[date, ...]:
        found = self._streaks.get(day)
        if found is not None:
            return found
        th = self.thresholds
        days: list[date] = []
        d = day
        while len(days) < th.low_visit_days_for_yellow:
            if d.weekday() in th.working_weekdays:
                days.append(d)
            d -= timedelta(days=1)
        found = self._streaks[day] = tuple(days)
        return found

    def _history_start(self, rep_id: str) -> Optional[date]:
        return self.history_start or self._first_day.get(rep_id) or self._first_day_of_any

    def _state(self, rep_id: str, counts: Iterable[tuple[date, int]]) -> HealthState:
        """Yellow when every day of the streak is known (not before the history start) and low."""
        start = self._history_start(rep_id)
        counts = tuple(counts)
        known = start is not None and all(d >= start for d, _ in counts)
        low = known and all(n < self.thresholds.min_effective_visits_per_day for _, n in counts)
        return HealthState.YELLOW if low else HealthState.GREEN

    def _count_on(self, rep_id: str, day: date) -> int:
        return self._effective_count.get(rep_id, _NO_COUNTS).get(day, 0)

    def headline(self, rep_id: str, day: date) -> tuple[float, HealthState]:
        """`value(rep_id, day)`'s value and state without building its drill-down: what the
        stream worker compares to decide whether the indicator changed."""
        return float(self._count_on(rep_id, day)), self._state(
            rep_id, ((d, self._count_on(rep_id, d)) for d in self._streak_days(day))
        )

    def summary(self, rep_id: str, day: date) -> Indicator:
        """`value(rep_id, day)` without its drill-down (the same value, state, threshold and
        details): what an indicator-change event carries. The drill-down lists every visit
        of the rep's day, by far the largest part of the cost, and only the dashboard reads it."""
        counts = [(d, self._count_on(rep_id, d)) for d in self._streak_days(day)]
        start = self._history_start(rep_id)
        return Indicator(
            name=self.name,
            scope=f"rep:{rep_id}",
            window=day.isoformat(),
            value=float(self._count_on(rep_id, day)),
            state=self._state(rep_id, counts),
            threshold=float(self.thresholds.min_effective_visits_per_day),
            details=(
                ("days_evaluated", tuple((d.isoformat(), n) for d, n in counts)),
                ("consecutive_low_days_for_yellow", self.thresholds.low_visit_days_for_yellow),
                ("history_start", None if start is None else start.isoformat()),
            ),
            drill_down=(),
        )

    def value(self, rep_id: str, day: date) -> Indicator:
        th = self.thresholds
        drill: list[DrillDown] = []
        counts: list[tuple[str, int]] = []
        for d in self._streak_days(day):
            visits = self._effective_on(rep_id, d)
            counts.append((d.isoformat(), len(visits)))
            listed = "; ".join(
                f"{v.visit_id} at {v.customer_id} (evidence {', '.join(v.evidence_event_ids)})" for v in visits
            )
            drill.append(
                DrillDown(
                    subject=f"rep {rep_id} on {d.isoformat()}",
                    detail=f"{len(visits)} effective visit(s): {listed or 'none'}",
                    events=tuple(EventRef(v.started_at, v.visit_id) for v in visits),
                )
            )
        start = self._history_start(rep_id)
        for v in sorted(self._by_rep_day.get((rep_id, day), {}).values(), key=lambda v: (v.started_at, v.visit_id)):
            if not v.effective:  # why a visit did not count, so the number explains itself
                drill.append(
                    DrillDown(
                        subject=f"visit {v.visit_id} by rep {rep_id} on {day.isoformat()}: not effective"
                        + ("" if v.decided else " (yet)"),
                        detail="; ".join(v.reasons),
                        events=(EventRef(v.started_at, v.visit_id),),
                    )
                )
        today = len(self._effective_on(rep_id, day))
        return Indicator(
            name=self.name,
            scope=f"rep:{rep_id}",
            window=day.isoformat(),
            value=float(today),
            state=self._state(rep_id, ((date.fromisoformat(d), n) for d, n in counts)),
            threshold=float(th.min_effective_visits_per_day),
            details=(
                ("days_evaluated", tuple(counts)),
                ("consecutive_low_days_for_yellow", th.low_visit_days_for_yellow),
                ("history_start", None if start is None else start.isoformat()),
            ),
            drill_down=tuple(drill),
        )

    def team_value(self, day: date, roster: Iterable[str] = ()) -> Indicator:
        """Mean effective visits per rep on `day` over the reps seen in verdicts plus `roster` (reps
        with no visit at all are only known from the roster); state is the worst rep state."""
        reps = sorted(set(self.reps()) | set(roster))
        per_rep = [self.value(r, day) for r in reps]
        yellow = tuple(i.scope.removeprefix("rep:") for i in per_rep if i.state is HealthState.YELLOW)
        return Indicator(
            name=self.name,
            scope="team",
            window=day.isoformat(),
            value=None if not reps else sum(i.value or 0.0 for i in per_rep) / len(reps),
            state=worst(i.state for i in per_rep),
            threshold=float(self.thresholds.min_effective_visits_per_day),
            details=(("reps", len(reps)), ("yellow_reps", yellow)),
            drill_down=tuple(d for i in per_rep for d in i.drill_down[:1]),
        )

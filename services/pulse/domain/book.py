"""Every tenant's pulse in one process, and what changed after a batch of events.

`PulseBook.apply_batch(events)` feeds each tenant's `TenantPulse` and returns the changes
to publish: each new or revised visit verdict (numbered revisions) and each indicator
whose value or state changed for a rep/day or a customer. Changes are computed once per
batch and per affected scope, so the cost of a batch does not grow with the history.
Because the book is a deterministic fold of its events, two books fed the same events
(the worker and the dashboard replica, or a replay after a restart) hold the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional
from zoneinfo import ZoneInfo

from services.pulse.domain.events import (
    ForecastGraded,
    LeadAssigned,
    LeadResponded,
    StageAdvanced,
)
from services.pulse.domain.indicators import HealthState, Indicator
from services.pulse.domain.pulse import PulseEvent, TenantPulse
from services.pulse.domain.thresholds import DEFAULT_THRESHOLDS, PulseThresholds
from services.pulse.domain.visits import VisitVerdict
from services.pulse.domain.windows import Admission

DEFAULT_TIME_ZONE = ZoneInfo("Asia/Shanghai")

LEAD_RESPONSE = "lead_response"
STAGE_PROGRESSION = "stage_progression_completeness"
CUSTOMER_DATA = "customer_data_completeness"
FORECAST = "forecast_ab_share"
EFFECTIVE_VISITS = "effective_visits_per_rep_per_day"
INDICATORS = (LEAD_RESPONSE, STAGE_PROGRESSION, CUSTOMER_DATA, FORECAST, EFFECTIVE_VISITS)
_INDICATOR_INPUTS = frozenset({LeadAssigned, LeadResponded, StageAdvanced, ForecastGraded})
_UNREPORTED: tuple[Optional[float], HealthState] = (None, HealthState.NO_DATA)


@dataclass(frozen=True)
class TenantSettings:
    time_zone: ZoneInfo = DEFAULT_TIME_ZONE
    thresholds: PulseThresholds = DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class VerdictChange:
    verdict: VisitVerdict
    revision: int
    cause_event_id: str = ""  # the latest input event that led to this revision


@dataclass(frozen=True)
class IndicatorChange:
    tenant_id: str
    indicator: Indicator  # an effective-visit count's without its drill-down (the dashboard's)
    scope: str  # rep:<id> | customer:<id>
    previous_state: HealthState
    as_of: datetime  # the latest event time the book had seen for the tenant
    cause_event_id: str
    missing_fields: tuple[str, ...] = ()
    previous_value: Optional[float] = None  # what this scope last read, with previous_state


@dataclass
class BatchChanges:
    verdicts: list[VerdictChange] = field(default_factory=list)
    indicators: list[IndicatorChange] = field(default_factory=list)
    admissions: dict[Admission, int] = field(default_factory=dict)


class PulseBook:
    def __init__(self, settings_for: Callable[[str], TenantSettings] = lambda tenant: TenantSettings()) -> None:
        self._settings_for = settings_for
        self._tenants: dict[str, TenantPulse] = {}
        # (tenant, visit) -> the verdict last reported and how many revisions were reported
        self._published_verdicts: dict[tuple[str, str], tuple[VisitVerdict, int]] = {}
        # What was last reported per (tenant, indicator, scope, window): (value, state).
        self._reported: dict[tuple[str, str, str, str], tuple[Optional[float], HealthState]] = {}
        self._latest: dict[str, datetime] = {}

    def tenant(self, tenant_id: str) -> TenantPulse:
        pulse = self._tenants.get(tenant_id)
        if pulse is None:
            settings = self._settings_for(tenant_id)
            pulse = TenantPulse(tenant_id, settings.time_zone, settings.thresholds)
            self._tenants[tenant_id] = pulse
        return pulse

    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted(self._tenants))

    def knows(self, tenant_id: str) -> bool:
        return tenant_id in self._tenants

    def apply_batch(self, events: Iterable[PulseEvent]) -> BatchChanges:
        changes = BatchChanges()
        # A visit revised several times inside one batch is published once, as it ends up
        # (the latest verdict wins anyway); same for each indicator scope. Visits are judged
        # once per batch, after all its events are admitted (TenantPulse.admit / settle).
        revised: dict[tuple[str, str], tuple[VisitVerdict, str]] = {}
        # scope key -> the last event that touched it (named as the change's cause)
        touched: dict[tuple[str, str, str, str], str] = {}
        customers: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {}
        counts = dict.fromkeys(Admission, 0)
        latest = self._latest
        tenants = self._tenants
        admitted: dict[str, TenantPulse] = {}
        # tenant -> its latest lead event: the lead watermark moved, leads may be overdue now
        lead_clock_moved: dict[str, str] = {}
        accepted = Admission.ACCEPTED
        for event in events:
            tenant_id = event.tenant_id
            pulse = tenants.get(tenant_id) or self.tenant(tenant_id)
            kind = type(event)
            lead_before = pulse.lead_response.window_and_rep_of(event.lead_id) if kind is LeadAssigned else None
            admission, customer = pulse.admit(event)
            counts[admission] += 1
            if admission is not accepted:
                continue
            admitted[tenant_id] = pulse
            at = event.at
            seen = latest.get(tenant_id)
            if seen is None or at > seen:
                latest[tenant_id] = at
            if customer is not None:
                customers[(tenant_id, customer.customer_id)] = (customer.missing, event.event_id)
            if kind not in _INDICATOR_INPUTS:
                continue  # visit events: their indicator is the effective-visit count below
            if kind is LeadAssigned or kind is LeadResponded:
                lead_clock_moved[tenant_id] = event.event_id
                found = pulse.lead_response.window_and_rep_of(event.lead_id)
                if lead_before is not None and lead_before != found:
                    # An earlier assignment arriving late moved the lead to its rep and day: the
                    # rep and day it counted for until now read differently too.
                    touched[(event.tenant_id, LEAD_RESPONSE, lead_before[1], lead_before[0])] = event.event_id
                if found is not None:
                    window, rep = found
                    touched[(event.tenant_id, LEAD_RESPONSE, rep, window)] = event.event_id
            elif kind is StageAdvanced:
                touched[(event.tenant_id, STAGE_PROGRESSION, event.rep_id, pulse.stage_progression.window_of(event))] = (
                    event.event_id
                )
            else:
                touched[(event.tenant_id, FORECAST, event.rep_id, pulse.forecast.window_of(event))] = event.event_id
        changes.admissions.update((admission, n) for admission, n in counts.items() if n)
        for tenant_id, cause in lead_clock_moved.items():
            for window, rep in tenants[tenant_id].lead_response.newly_overdue():
                touched[(tenant_id, LEAD_RESPONSE, rep, window)] = cause
        for tenant_id, pulse in admitted.items():
            for verdict, cause, days in pulse.settle():
                revised[(tenant_id, verdict.visit_id)] = (verdict, cause)
                for day in days:
                    touched[(tenant_id, EFFECTIVE_VISITS, verdict.rep_id, _day_key(day))] = cause
        for key, (verdict, cause) in revised.items():
            published, revision = self._published_verdicts.get(key, (None, 0))
            if published == verdict:
                continue  # revised and revised back inside the batch
            self._published_verdicts[key] = (verdict, revision + 1)
            changes.verdicts.append(VerdictChange(verdict, revision + 1, cause))
        for (tenant_id, name, rep_id, window), cause in sorted(touched.items()):
            pulse = self._tenants[tenant_id]
            if name == EFFECTIVE_VISITS:
                # Most touches leave the count as it was: compare before building anything.
                day = date.fromisoformat(window)
                headline = pulse.effective_visits.headline(rep_id, day)
                if self._reported.get((tenant_id, name, f"rep:{rep_id}", window), _UNREPORTED) == headline:
                    continue
                indicator = pulse.effective_visits.summary(rep_id, day)
            else:
                indicator = _rep_value(pulse, name, rep_id, window)
            self._report(changes, tenant_id, indicator, f"rep:{rep_id}", cause, pulse, ())
        for (tenant_id, customer_id), (missing, cause) in sorted(customers.items()):
            pulse = self._tenants[tenant_id]
            indicator = pulse.customer_data.customer_value(customer_id)
            self._report(changes, tenant_id, indicator, f"customer:{customer_id}", cause, pulse, missing)
        return changes

    def _report(
        self,
        changes: BatchChanges,
        tenant_id: str,
        indicator: Indicator,
        scope: str,
        cause: str,
        pulse: TenantPulse,
        missing: tuple[str, ...],
    ) -> None:
        key = (tenant_id, indicator.name, scope, indicator.window)
        previous = self._reported.get(key, _UNREPORTED)
        now = (indicator.value, indicator.state)
        if now == previous:
            return
        self._reported[key] = now
        changes.indicators.append(
            IndicatorChange(
                tenant_id=tenant_id,
                indicator=indicator,
                scope=scope,
                previous_state=previous[1],
                previous_value=previous[0],
                as_of=self._latest[tenant_id],
                cause_event_id=cause,
                missing_fields=missing,
            )
        )

    # ---- the dashboard --------------------------------------------------------------------
    def board(self, tenant_id: str, day: date, reps: Sequence[str]) -> "Board":
        pulse = self.tenant(tenant_id)
        key = day.isoformat()
        team = pulse.dashboard(day, reps)
        per_rep = {rep: tuple(_rep_value(pulse, name, rep, key) for name in _REP_INDICATORS) for rep in reps}
        return Board(tenant_id=tenant_id, day=day, team=team, reps=per_rep, pulse=pulse)

    def indicator(self, tenant_id: str, name: str, day: date, rep_id: Optional[str], roster: Sequence[str]) -> Indicator:
        pulse = self.tenant(tenant_id)
        if name == CUSTOMER_DATA:
            return pulse.customer_data.value()
        if rep_id is None:
            return {i.name: i for i in pulse.dashboard(day, roster)}[name]
        return _rep_value(pulse, name, rep_id, day.isoformat())

    def latest_event_time(self, tenant_id: str) -> Optional[datetime]:
        return self._latest.get(tenant_id)

    def reps_seen(self, tenant_id: str) -> tuple[str, ...]:
        if tenant_id not in self._tenants:
            return ()
        pulse = self._tenants[tenant_id]
        return tuple(
            sorted(
                set(pulse.effective_visits.reps())
                | pulse.lead_response.reps()
                | pulse.stage_progression.reps()
                | pulse.forecast.reps()
            )
        )


_DAY_KEYS: dict[date, str] = {}


def _day_key(day: date) -> str:
    key = _DAY_KEYS.get(day)
    if key is None:
        key = _DAY_KEYS[day] = day.isoformat()
    return key


_REP_INDICATORS = (LEAD_RESPONSE, STAGE_PROGRESSION, FORECAST, EFFECTIVE_VISITS)


def _rep_value(pulse: TenantPulse, name: str, rep_id: str, window: str) -> Indicator:
    if name == EFFECTIVE_VISITS:
        return pulse.effective_visits.value(rep_id, date.fromisoformat(window))
    if name == LEAD_RESPONSE:
        return pulse.lead_response.value(window, rep_id)
    if name == STAGE_PROGRESSION:
        return pulse.stage_progression.value(window, rep_id)
    if name == FORECAST:
        return pulse.forecast.value(window, rep_id)
    raise KeyError(name)


@dataclass(frozen=True)
class Board:
    tenant_id: str
    day: date
    team: tuple[Indicator, ...]
    reps: dict[str, tuple[Indicator, ...]]
    pulse: TenantPulse

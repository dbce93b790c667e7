"""One tenant's pulse state: routes input events to the visit tracker and the indicators, and
assembles the dashboard. This is what a Faust agent (or a replay job) holds per tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional, Union
from zoneinfo import ZoneInfo

from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    ForecastGraded,
    LeadAssigned,
    LeadResponded,
    OpportunityOpened,
    RepActivity,
    RequirementNoted,
    StageAdvanced,
)
from services.pulse.domain.indicators import (
    CustomerDataCompleteness,
    CustomerUpdate,
    EffectiveVisitsIndicator,
    ForecastCredibilityIndicator,
    Indicator,
    LeadResponseIndicator,
    StageProgressionIndicator,
)
from services.pulse.domain.thresholds import DEFAULT_THRESHOLDS, PulseThresholds
from services.pulse.domain.visits import VisitTracker, VisitVerdict
from services.pulse.domain.windows import Admission

PulseEvent = Union[
    OpportunityOpened,
    CheckIn,
    CheckOut,
    RepActivity,
    RequirementNoted,
    CustomerChanged,
    LeadAssigned,
    LeadResponded,
    StageAdvanced,
    ForecastGraded,
]


@dataclass(frozen=True)
class PulseUpdate:
    admission: Admission
    verdicts: tuple[VisitVerdict, ...] = ()  # new or revised verdicts: publish each
    customer: Optional[CustomerUpdate] = None  # missing-field flags after a customer change


_ADMITTED_ONLY = {admission: PulseUpdate(admission) for admission in Admission}
_VISIT_EVENTS = frozenset({CheckIn, CheckOut, RepActivity, RequirementNoted, OpportunityOpened})


class TenantPulse:
    def __init__(self, tenant_id: str, tz: ZoneInfo, thresholds: PulseThresholds = DEFAULT_THRESHOLDS) -> None:
        self.tenant_id = tenant_id
        self.tz = tz
        self.thresholds = thresholds
        self.visits = VisitTracker(tenant_id, tz, thresholds)
        self.effective_visits = EffectiveVisitsIndicator(tenant_id, tz, thresholds)
        self.lead_response = LeadResponseIndicator(tenant_id, tz, thresholds)
        self.stage_progression = StageProgressionIndicator(tenant_id, tz, thresholds)
        self.forecast = ForecastCredibilityIndicator(tenant_id, tz, thresholds)
        self.customer_data = CustomerDataCompleteness(tenant_id, thresholds)

    def apply(self, event: PulseEvent) -> PulseUpdate:
        if isinstance(event, (CheckIn, CheckOut, RepActivity, RequirementNoted, OpportunityOpened)):
            update = self.visits.apply(event)
            if not update.changed:
                return _ADMITTED_ONLY[update.admission]
            for v in update.changed:
                self.effective_visits.apply(v)
            return PulseUpdate(update.admission, update.changed)
        if isinstance(event, CustomerChanged):
            visit_update = self.visits.apply(event)
            for v in visit_update.changed:
                self.effective_visits.apply(v)
            customer = self.customer_data.apply(event)
            return PulseUpdate(customer.admission, visit_update.changed, customer)
        if isinstance(event, (LeadAssigned, LeadResponded)):
            return PulseUpdate(self.lead_response.apply(event))
        if isinstance(event, StageAdvanced):
            return PulseUpdate(self.stage_progression.apply(event))
        if isinstance(event, ForecastGraded):
            return PulseUpdate(self.forecast.apply(event))
        raise TypeError(f"pulse does not consume {type(event).__name__}")

    def admit(self, event: PulseEvent) -> tuple[Admission, Optional[CustomerUpdate]]:
        """`apply` without judging visits yet: a batch's events are admitted one by one, then
        `settle` judges each visit they touched once (see VisitTracker.admit)."""
        kind = type(event)
        if kind in _VISIT_EVENTS:
            return self.visits.admit(event), None
        if kind is CustomerChanged:
            self.visits.admit(event)
            customer = self.customer_data.apply(event)
            return customer.admission, customer
        if kind is LeadAssigned or kind is LeadResponded:
            return self.lead_response.apply(event), None
        if kind is StageAdvanced:
            return self.stage_progression.apply(event), None
        if kind is ForecastGraded:
            return self.forecast.apply(event), None
        raise TypeError(f"pulse does not consume {kind.__name__}")

    def settle(self) -> list[tuple[VisitVerdict, str, tuple[date, ...]]]:
        """The verdicts that changed since the last settle, each with the event that last
        touched it and the rep's days whose effective-visit indicator may read differently;
        the effective-visit counts take them in."""
        apply = self.effective_visits.apply
        return [(verdict, cause, apply(verdict)) for verdict, cause in self.visits.settle()]

    def dashboard(self, day: date, roster: Iterable[str] = ()) -> tuple[Indicator, ...]:
        """Team indicators for one local day (customer data is the current snapshot)."""
        key = day.isoformat()
        return (
            self.lead_response.value(key),
            self.stage_progression.value(key),
            self.customer_data.value(),
            self.forecast.value(key),
            self.effective_visits.team_value(day, roster),
        )

"""A tenant's pulse thresholds. The defaults are the seed article's numbers where it gives one
("过程指标仪表盘"); where it gives none the default is ours and says so. Tenants override them.

Red/yellow/green for a share indicator (see `classify_share`):
  green  value >= healthy
  yellow healthy - yellow_band <= value < healthy   (default band: 5 percentage points)
  red    value <  healthy - yellow_band
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


class InvalidThresholds(ValueError):
    pass


# Our default, not the article's: fields a sales manager expects on every customer record.
DEFAULT_REQUIRED_CUSTOMER_FIELDS: tuple[str, ...] = (
    "name",
    "industry",
    "address",
    "contact_name",
    "contact_phone",
    "decision_maker",
)


@dataclass(frozen=True)
class PulseThresholds:
    # --- effective visit (article: 客户现场 + 时长>25分钟 + 含需求记录) ---
    # Our default: the article names no radius. 200 m covers a campus gate-to-office walk and GPS error.
    geofence_radius_m: float = 200.0
    # Article: on site for MORE than 25 minutes (exactly 25:00 is not enough).
    min_on_site: timedelta = timedelta(minutes=25)
    # Our default: a requirement note counts if recorded in [check-in, end of visit + grace].
    note_grace: timedelta = timedelta(minutes=60)
    # Our default: a visit without check-out is ended by the rep's next activity, but only within this
    # long; with no end after this long the visit is judged (not effective).
    max_visit_duration: timedelta = timedelta(hours=12)

    # --- lead response (article: ≤15 min) ---
    lead_response_limit: timedelta = timedelta(minutes=15)
    # Our default: the article's ≤15 min is per lead; the indicator is green when this share of leads
    # is answered within the limit (0.90 ⇔ p90 ≤ 15 min).
    lead_response_healthy_share: float = 0.90

    # --- shares (article) ---
    stage_progression_healthy: float = 0.92
    customer_data_healthy: float = 0.88
    forecast_ab_healthy: float = 0.75
    # Our default: within 5 percentage points below healthy is yellow, further below is red.
    yellow_band: float = 0.05

    # --- effective visits per rep per day (article: 连续3天拜访量<2次自动标黄) ---
    min_effective_visits_per_day: int = 2
    low_visit_days_for_yellow: int = 3
    # Our default: only working days count (Mon=0 … Fri=4); other days neither count nor break a streak.
    working_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    # --- customer data completeness: which fields count is configuration ---
    required_customer_fields: tuple[str, ...] = DEFAULT_REQUIRED_CUSTOMER_FIELDS

    # --- event time: our default lateness allowance for late and out-of-order events ---
    lateness_allowance: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.geofence_radius_m <= 0:
            raise InvalidThresholds("geofence_radius_m must be positive")
        for name in ("min_on_site", "lead_response_limit", "max_visit_duration"):
            if getattr(self, name) <= timedelta(0):
                raise InvalidThresholds(f"{name} must be positive")
        for name in ("note_grace", "lateness_allowance"):
            if getattr(self, name) < timedelta(0):
                raise InvalidThresholds(f"{name} must not be negative")
        for name in (
            "lead_response_healthy_share",
            "stage_progression_healthy",
            "customer_data_healthy",
            "forecast_ab_healthy",
            "yellow_band",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidThresholds(f"{name} must be a share between 0 and 1")
        if self.min_effective_visits_per_day < 0 or self.low_visit_days_for_yellow < 1:
            raise InvalidThresholds("visit thresholds must be min >= 0 and days >= 1")
        if not self.working_weekdays or not set(self.working_weekdays) <= set(range(7)):
            raise InvalidThresholds("working_weekdays must be a non-empty subset of 0..6")
        if not self.required_customer_fields or len(set(self.required_customer_fields)) != len(
            self.required_customer_fields
        ):
            raise InvalidThresholds("required_customer_fields must be non-empty and unique")


DEFAULT_THRESHOLDS = PulseThresholds()

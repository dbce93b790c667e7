"""A tenant's process thresholds. The defaults are the seed article's numbers;
tenants override them (`actions.policy.v1`, `UpdateTenantPolicy`).

Every value is checked when a policy is built, so a policy that exists is a valid one:
a change that would break any rule raises `InvalidCommand` naming the field and
changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.actions.domain.errors import InvalidCommand

# A threshold shorter than this would alert on every opportunity while the rep types.
MIN_STALL_THRESHOLD = timedelta(minutes=1)
MAX_STALL_THRESHOLD = timedelta(days=365)
MAX_ESCALATION_DELAY = timedelta(days=30)
MIN_LEAD_RESPONSE_LIMIT = timedelta(minutes=1)
MAX_LEAD_RESPONSE_LIMIT = timedelta(days=7)
MIN_DUPLICATE_TOUCH_WINDOW = timedelta(hours=1)
MAX_DUPLICATE_TOUCH_WINDOW = timedelta(days=90)
MAX_STAGES_WITH_OWN_THRESHOLD = 100
_STAGE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
ISO_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _require_between(name: str, value: timedelta, low: timedelta, high: timedelta) -> None:
    if not isinstance(value, timedelta) or not low <= value <= high:
        raise InvalidCommand(
            name, f"must be between {int(low.total_seconds())} and {int(high.total_seconds())} seconds"
        )


def _require_percent(name: str, value: float, low: float = 0.0, high: float = 100.0) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidCommand(name, f"must be a percentage between {low:g} and {high:g}")


def parse_local_time(value: str, name: str) -> time:
    """"08:00" -> time(8, 0); the policy's wall-clock times are minutes, no seconds."""
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value or "")
    if not match:
        raise InvalidCommand(name, f"must be a 24-hour local time HH:MM such as 08:00; got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def require_timezone(name: str) -> ZoneInfo:
    try:
        if not name or name != name.strip():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCommand("timezone", f"{name!r} is not an IANA time zone such as Asia/Shanghai") from None


@dataclass(frozen=True)
class ProcessPolicy:
    # --- stall breaker -------------------------------------------------------------
    # How long an opportunity may sit in a stage without a valid action ...
    stall_threshold: timedelta = timedelta(hours=48)
    # ... unless the stage has its own threshold (stage id -> threshold).
    stage_stall_thresholds: Mapping[str, timedelta] = field(default_factory=lambda: MappingProxyType({}))
    # An unhandled stall alert goes to the rep when raised, to the rep's manager this
    # long after (0: at once — the article's "superior pop-up"), and to the director
    # this long after that.
    escalate_to_manager_after: timedelta = timedelta(0)
    escalate_to_director_after: timedelta = timedelta(hours=24)
    # How long a manager has to follow up a stalled opportunity (the to-do's due time).
    manager_followup_window: timedelta = timedelta(hours=24)
    # --- evidence -----------------------------------------------------------------
    # An effective call lasts at least this long.
    min_call_duration: timedelta = timedelta(minutes=1)
    # A note shorter than this records nothing a manager could check.
    min_note_length: int = 20
    # --- leads and touches ------------------------------------------------------------
    lead_response_limit: timedelta = timedelta(minutes=15)
    # Two or more different reps contacting one customer within this window is a
    # duplicate touch.
    duplicate_touch_window: timedelta = timedelta(days=7)
    duplicate_touch_min_reps: int = 2
    # --- dwell --------------------------------------------------------------------------
    # A stage's dwell is flagged above this multiple of the template's benchmark.
    dwell_factor: float = 2.3
    # --- reporting (read by services/actions/domain/reporting) --------------------------
    # Action completion rate at or above this is green; at or above yellow, yellow; below, red.
    compliance_green_percent: float = 85.0
    compliance_yellow_percent: float = 70.0
    # Weight of action quality within the process score.
    process_quality_weight_percent: float = 40.0
    # --- the tenant's calendar -------------------------------------------------------
    timezone: str = "Asia/Shanghai"
    must_do_local_time: time = time(8, 0)
    weekly_report_weekday: str = "monday"
    weekly_report_local_time: time = time(8, 0)

    def __post_init__(self) -> None:
        _require_between("stall_threshold_seconds", self.stall_threshold, MIN_STALL_THRESHOLD, MAX_STALL_THRESHOLD)
        stages = dict(self.stage_stall_thresholds)
        if len(stages) > MAX_STAGES_WITH_OWN_THRESHOLD:
            raise InvalidCommand(
                "stage_stall_threshold_seconds", f"at most {MAX_STAGES_WITH_OWN_THRESHOLD} stages may have their own threshold"
            )
        for stage, threshold in stages.items():
            if not isinstance(stage, str) or not _STAGE_ID.match(stage):
                raise InvalidCommand(
                    "stage_stall_threshold_seconds", f"{stage!r} is not a stage id (lowercase letters, digits, '_')"
                )
            if stage in ("closed_won", "closed_lost"):
                raise InvalidCommand("stage_stall_threshold_seconds", f"{stage} is closed; closed stages never stall")
            _require_between(f"stage_stall_threshold_seconds[{stage}]", threshold, MIN_STALL_THRESHOLD, MAX_STALL_THRESHOLD)
        object.__setattr__(self, "stage_stall_thresholds", MappingProxyType(stages))
        _require_between(
            "escalate_to_manager_after_seconds", self.escalate_to_manager_after, timedelta(0), MAX_ESCALATION_DELAY
        )
        _require_between(
            "escalate_to_director_after_seconds", self.escalate_to_director_after, timedelta(minutes=1), MAX_ESCALATION_DELAY
        )
        _require_between(
            "manager_followup_seconds", self.manager_followup_window, timedelta(minutes=1), MAX_ESCALATION_DELAY
        )
        _require_between("min_call_duration_seconds", self.min_call_duration, timedelta(seconds=1), timedelta(hours=4))
        if isinstance(self.min_note_length, bool) or not isinstance(self.min_note_length, int) or not 1 <= self.min_note_length <= 2000:
            raise InvalidCommand("min_note_length", "must be a whole number of characters between 1 and 2000")
        _require_between(
            "lead_response_limit_seconds", self.lead_response_limit, MIN_LEAD_RESPONSE_LIMIT, MAX_LEAD_RESPONSE_LIMIT
        )
        _require_between(
            "duplicate_touch_window_seconds",
            self.duplicate_touch_window,
            MIN_DUPLICATE_TOUCH_WINDOW,
            MAX_DUPLICATE_TOUCH_WINDOW,
        )
        if (
            isinstance(self.duplicate_touch_min_reps, bool)
            or not isinstance(self.duplicate_touch_min_reps, int)
            or not 2 <= self.duplicate_touch_min_reps <= 50
        ):
            raise InvalidCommand("duplicate_touch_min_reps", "must be a whole number of reps between 2 and 50")
        if isinstance(self.dwell_factor, bool) or not isinstance(self.dwell_factor, (int, float)) or not 1.0 <= self.dwell_factor <= 100.0:
            raise InvalidCommand("dwell_factor", "must be a multiple of the benchmark between 1 and 100")
        _require_percent("compliance_green_percent", self.compliance_green_percent, 1.0, 100.0)
        _require_percent("compliance_yellow_percent", self.compliance_yellow_percent)
        if self.compliance_yellow_percent >= self.compliance_green_percent:
            raise InvalidCommand(
                "compliance_yellow_percent",
                f"must be below compliance_green_percent ({self.compliance_green_percent:g}); "
                "the yellow band lies between the two",
            )
        _require_percent("process_quality_weight_percent", self.process_quality_weight_percent)
        require_timezone(self.timezone)
        for name in ("must_do_local_time", "weekly_report_local_time"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.second or value.microsecond or value.tzinfo:
                raise InvalidCommand(name, "must be a local time in whole minutes")
        if self.weekly_report_weekday not in ISO_WEEKDAYS:
            raise InvalidCommand("weekly_report_weekday", f"must be one of {', '.join(ISO_WEEKDAYS)}")

    # --- reading ------------------------------------------------------------------------
    def stall_threshold_for(self, stage: str) -> timedelta:
        return self.stage_stall_thresholds.get(stage, self.stall_threshold)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekly_report_iso_weekday(self) -> int:
        """1 = Monday ... 7 = Sunday (datetime.isoweekday)."""
        return ISO_WEEKDAYS.index(self.weekly_report_weekday) + 1

    def compliance_colour(self, completion_percent: float) -> str:
        if completion_percent >= self.compliance_green_percent:
            return "green"
        if completion_percent >= self.compliance_yellow_percent:
            return "yellow"
        return "red"

    # --- changing -----------------------------------------------------------------------
    def with_stall_threshold(self, threshold: timedelta) -> "ProcessPolicy":
        return self.updated(stall_threshold=threshold)

    def pinned_to_stall_threshold(self, threshold: timedelta) -> "ProcessPolicy":
        """The policy with `threshold` in force for every stage: what an opportunity
        event carried is what its replay must arm, whatever the policy says by then."""
        return self.updated(stall_threshold=threshold, stage_stall_thresholds={})

    def updated(self, **changes: Any) -> "ProcessPolicy":
        """A copy with `changes` applied, validated as a whole (so a yellow band above a
        new green line is refused even though each value alone is in range)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InvalidCommand(unknown[0], "is not a policy setting")
        return replace(self, **changes)


DEFAULT_POLICY = ProcessPolicy()

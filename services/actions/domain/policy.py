"""A tenant's process thresholds. The defaults are the seed article's numbers;
tenants override them (`actions.policy.v1`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from services.actions.domain.errors import InvalidCommand

# A threshold shorter than this would alert on every opportunity while the rep types.
MIN_STALL_THRESHOLD = timedelta(minutes=1)
MAX_STALL_THRESHOLD = timedelta(days=365)


@dataclass(frozen=True)
class ProcessPolicy:
    stall_threshold: timedelta = timedelta(hours=48)
    # An effective call lasts at least this long.
    min_call_duration: timedelta = timedelta(minutes=1)
    # A note shorter than this records nothing a manager could check.
    min_note_length: int = 20
    # How long a manager has to follow up a stalled opportunity.
    manager_followup_window: timedelta = timedelta(hours=24)

    def with_stall_threshold(self, threshold: timedelta) -> "ProcessPolicy":
        if not MIN_STALL_THRESHOLD <= threshold <= MAX_STALL_THRESHOLD:
            raise InvalidCommand(
                "stall.threshold_seconds",
                f"must be between {int(MIN_STALL_THRESHOLD.total_seconds())} and "
                f"{int(MAX_STALL_THRESHOLD.total_seconds())} seconds",
            )
        return replace(self, stall_threshold=threshold)


DEFAULT_POLICY = ProcessPolicy()

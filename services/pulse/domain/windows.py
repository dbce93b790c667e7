"""Event-time windows with a lateness allowance.

Semantics (one rule for every stateful piece of pulse):
- The *watermark* is the maximum event time seen so far by one gate, and a gate follows one
  ordered stream: per rep for visits (a rep's activities are one partition), per source
  partition for the indicators fed by actions' topics (`stream` on their events). So whether
  an event is too late never depends on how a reader interleaved several streams — live,
  in a replay or on another worker, the same events are counted.
- An event belongs to the window of its own event time. Its window is *closed* once
  `watermark >= window.end + allowance`; until then late and out-of-order events are counted
  exactly as if they had arrived in order.
- An event whose window is already closed is `too_late`: it is not counted, but it is kept (id,
  time, reason) in `too_late` for drill-down — never silently dropped.
- An event id seen before is a duplicate and is ignored (at-least-once delivery).
Replaying the same events into fresh state, with each stream in its order (however the streams
interleave), or in any order in which no event trails its watermark by more than the allowance,
gives the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Optional, Protocol
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Window:
    start: datetime
    end: datetime
    key: str


class WindowAssigner(Protocol):
    def window_of(self, at: datetime) -> Window: ...


_QUARTER_HOUR = 900


@dataclass(frozen=True)
class DayWindows:
    """Calendar days in the tenant's time zone (DST-aware: a day may last 23 or 25 hours).

    Every UTC offset and DST switch in the tz database falls on a quarter hour, so the local
    date is constant within a UTC quarter hour: lookups are cached per quarter hour (the hot
    path asks this for every event)."""

    tz: ZoneInfo
    _days: dict = field(default_factory=dict, compare=False, repr=False)
    _windows: dict = field(default_factory=dict, compare=False, repr=False)

    def day_of(self, at: datetime) -> date:
        quarter = int(at.timestamp()) // _QUARTER_HOUR
        day = self._days.get(quarter)
        if day is None:
            day = self._days[quarter] = at.astimezone(self.tz).date()
        return day

    def window_for_day(self, day: date) -> Window:
        window = self._windows.get(day)
        if window is None:
            start = datetime.combine(day, time(0), tzinfo=self.tz).astimezone(timezone.utc)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz).astimezone(timezone.utc)
            window = self._windows[day] = Window(start=start, end=end, key=day.isoformat())
        return window

    def window_of(self, at: datetime) -> Window:
        return self.window_for_day(self.day_of(at))


@dataclass(frozen=True)
class WeekWindows:
    """ISO weeks (Monday to Sunday) in the tenant's time zone, e.g. for the weekly report."""

    tz: ZoneInfo

    def window_of(self, at: datetime) -> Window:
        day = at.astimezone(self.tz).date()
        monday = day - timedelta(days=day.weekday())
        start = datetime.combine(monday, time(0), tzinfo=self.tz).astimezone(timezone.utc)
        end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=self.tz).astimezone(timezone.utc)
        year, week, _ = monday.isocalendar()
        return Window(start=start, end=end, key=f"{year}-W{week:02d}")


@dataclass(frozen=True)
class FixedWindows:
    """Tumbling windows of a fixed size aligned on the UTC epoch (e.g. hours)."""

    size: timedelta

    def __post_init__(self) -> None:
        if self.size <= timedelta(0):
            raise ValueError("window size must be positive")

    def window_of(self, at: datetime) -> Window:
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        n = (at - epoch) // self.size
        start = epoch + n * self.size
        return Window(start=start, end=start + self.size, key=start.isoformat())


class Admission(str, Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"


@dataclass(frozen=True)
class LateEvent:
    event_id: str
    at: datetime
    window_key: str
    watermark: datetime
    reason: str


class EventTimeGate:
    """De-duplicates by event id, tracks the watermark, and decides accepted / too_late."""

    def __init__(self, assigner: WindowAssigner, allowance: timedelta, seen: Optional[set[str]] = None) -> None:
        """`seen`: event ids already admitted, when several gates (one per stream) share it."""
        if allowance < timedelta(0):
            raise ValueError("lateness allowance must not be negative")
        self.assigner = assigner
        self.allowance = allowance
        self.watermark: Optional[datetime] = None
        self._seen: set[str] = set() if seen is None else seen
        self._too_late: list[LateEvent] = []
        self._closes_at: dict[str, datetime] = {}  # window key -> end + allowance
        self.duplicates = 0

    def is_closed(self, window: Window) -> bool:
        return self.watermark is not None and self.watermark >= window.end + self.allowance

    def admit(self, event_id: str, at: datetime, *, exempt_from_lateness: bool = False) -> Admission:
        if event_id in self._seen:
            self.duplicates += 1
            return Admission.DUPLICATE
        self._seen.add(event_id)
        # An event not behind the watermark (the usual case) is in an open window, since its
        # window ends after it: no window lookup.
        watermark = self.watermark
        if watermark is None or at > watermark:
            self.watermark = at
            return Admission.ACCEPTED
        if exempt_from_lateness or at == watermark:
            return Admission.ACCEPTED
        window = self.assigner.window_of(at)
        closes_at = self._closes_at.get(window.key)
        if closes_at is None:
            closes_at = self._closes_at[window.key] = window.end + self.allowance
        if watermark >= closes_at:
            self._too_late.append(
                LateEvent(
                    event_id=event_id,
                    at=at,
                    window_key=window.key,
                    watermark=self.watermark,
                    reason=(
                        f"window {window.key} closed at {(window.end + self.allowance).isoformat()} "
                        f"(end + {_minutes(self.allowance)} min allowance); watermark was {self.watermark.isoformat()}"
                    ),
                )
            )
            return Admission.TOO_LATE
        return Admission.ACCEPTED

    @property
    def too_late(self) -> tuple[LateEvent, ...]:
        return tuple(sorted(self._too_late, key=lambda e: (e.at, e.event_id)))


def _minutes(d: timedelta) -> str:
    m = d.total_seconds() / 60
    return f"{m:g}" if m == int(m) else f"{m:.1f}"


def fmt_minutes(d: timedelta) -> str:
    """A duration for humans, never rounded up across a threshold: "18 min", "24 min 59 s"."""
    seconds = int(d.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes, rest = divmod(abs(seconds), 60)
    return f"{sign}{minutes} min" if rest == 0 else f"{sign}{minutes} min {rest} s"

"""Tenant-local time: the day a must-do list belongs to, the ISO week a report covers,
and the next moment a scheduled run is due. Everything is computed from an aware UTC
instant and an IANA time zone name, so daylight-saving changes move the local run,
not the meaning of a week."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.actions.domain.errors import InvalidCommand

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise InvalidCommand("timezone", "must be an IANA time zone name such as Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCommand("timezone", f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai") from None


def _aware(moment: datetime, field: str = "at") -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidCommand(field, "must be a timezone-aware instant")
    return moment


@dataclass(frozen=True, order=True)
class Week:
    """An ISO 8601 week (Monday to Sunday) in a tenant's local calendar."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not 1 <= self.year <= 9999:
            raise InvalidCommand("week", f"year {self.year!r} is out of range")
        if isinstance(self.number, bool) or not isinstance(self.number, int):
            raise InvalidCommand("week", "week number must be a whole number")
        last = date(self.year, 12, 28).isocalendar().week
        if not 1 <= self.number <= last:
            raise InvalidCommand("week", f"{self.year} has ISO weeks 1 to {last}; got {self.number}")

    @classmethod
    def parse(cls, text: str) -> "Week":
        match = _WEEK.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise InvalidCommand("week", f"{text!r} is not an ISO week like 2026-W05")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of_date(cls, day: date) -> "Week":
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> "Week":
        return cls.of_date(local_date(moment, tz))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def start(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 local time, as UTC."""
        return datetime.combine(self.monday, time(0), tz).astimezone(timezone.utc)

    def end(self, tz: ZoneInfo) -> datetime:
        """The next Monday 00:00 local time, as UTC (exclusive)."""
        return self.next().start(tz)

    def previous(self) -> "Week":
        return Week.of_date(self.monday - timedelta(days=7))

    def next(self) -> "Week":
        return Week.of_date(self.monday + timedelta(days=7))

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return _aware(moment).astimezone(tz).date()


def at_local(day: date, local_time: time, tz: ZoneInfo) -> datetime:
    """`local_time` on `day` in `tz`, as UTC. A time skipped by a daylight-saving jump
    resolves forward (fold=0), so the run still happens that day."""
    return datetime.combine(day, local_time, tz).astimezone(timezone.utc)


def due_daily_run(now: datetime, local_time: time, tz: ZoneInfo) -> date | None:
    """The local day whose run at `local_time` is due at `now`: today once the time has
    passed, otherwise None (yesterday's run was due yesterday)."""
    today = local_date(now, tz)
    return today if _aware(now, "now") >= at_local(today, local_time, tz) else None


def due_weekly_run(now: datetime, weekday: int, local_time: time, tz: ZoneInfo) -> Week:
    """The latest completed week whose report is due at `now`: last week once this
    week's `weekday` (1 = Monday) at `local_time` has passed, the week before until then.
    The caller remembers which weeks it already generated."""
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 1 <= weekday <= 7:
        raise InvalidCommand("report_weekday", f"must be 1 (Monday) to 7 (Sunday); got {weekday!r}")
    this_week = Week.containing(now, tz)
    run_day = date.fromisocalendar(this_week.year, this_week.number, weekday)
    last_week = this_week.previous()
    return last_week if _aware(now, "now") >= at_local(run_day, local_time, tz) else last_week.previous()

"""Effective visit verdicts (article: 客户现场 + 时长>25分钟 + 含需求记录).

A visit starts at a check-in (its id is the visit id). A visit is effective when all of:
1. on site: the check-in position is within `geofence_radius_m` of the customer's geocoded
   address (the location from the latest CustomerChanged at or before the check-in, else the
   earliest one known);
2. on site for MORE than `min_on_site`: from the check-in to its end. The end is the check-out
   linked to it by `checkin_id`; else the rep's first unlinked check-out at the same customer (or
   with no customer) before the rep's next check-in; else the rep's next activity (check-in,
   check-out, call/email...), if it comes within `max_visit_duration`. Requirement notes never
   end a visit;
3. a requirement note on the visit's opportunity (or, when the check-in names no opportunity, on
   the customer) whose time falls in [check-in, end + note_grace].

Every visit always has a verdict, a pure function of the admitted events and the watermark:
- `effective` True as soon as all criteria hold;
- not effective and `decided` False while it can still become effective (the end or the note
  may still come: until end + note_grace, or check-in + max_visit_duration with no end);
- not effective and `decided` True once the watermark has passed that point.
Late events (inside the lateness allowance) revise verdicts; `apply` returns the verdicts that
changed so the service publishes each revision. Reasons name each failed criterion with numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Union
from zoneinfo import ZoneInfo

from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    GeoPoint,
    RepActivity,
    RequirementNoted,
    check_tenant,
)
from services.pulse.domain.thresholds import DEFAULT_THRESHOLDS, PulseThresholds
from services.pulse.domain.windows import Admission, DayWindows, EventTimeGate, LateEvent, fmt_minutes

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

VisitEvent = Union[CheckIn, CheckOut, RepActivity, RequirementNoted, CustomerChanged]
RepEvent = Union[CheckIn, CheckOut, RepActivity]


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


ENDED_BY_CHECK_OUT = "check_out"
ENDED_BY_NEXT_ACTIVITY = "next_activity"
ENDED_BY_NONE = "none"


@dataclass(frozen=True)
class VisitVerdict:
    visit_id: str
    tenant_id: str
    rep_id: str
    customer_id: str
    opportunity_id: str
    started_at: datetime
    ended_at: Optional[datetime]
    ended_by: str
    on_site: Optional[timedelta]
    distance_m: Optional[float]
    effective: bool
    decided: bool
    reasons: tuple[str, ...]
    evidence_event_ids: tuple[str, ...]


@dataclass(frozen=True)
class VisitUpdate:
    admission: Admission
    changed: tuple[VisitVerdict, ...] = ()


def _key(e) -> tuple[datetime, str]:
    return (e.at, e.event_id)


class VisitTracker:
    """One tenant's visits. Accepts events in any order; verdicts are recomputed deterministically."""

    def __init__(self, tenant_id: str, tz: ZoneInfo, thresholds: PulseThresholds = DEFAULT_THRESHOLDS) -> None:
        self.tenant_id = tenant_id
        self.tz = tz
        self.thresholds = thresholds
        self._gate = EventTimeGate(DayWindows(tz), thresholds.lateness_allowance)
        self._rep_events: dict[str, list[RepEvent]] = {}
        self._checkins: dict[str, CheckIn] = {}
        self._notes: list[RequirementNoted] = []
        self._locations: dict[str, list[tuple[datetime, str, GeoPoint]]] = {}
        self._verdicts: dict[str, VisitVerdict] = {}

    # ---- input -------------------------------------------------------------------------------
    def apply(self, event: VisitEvent) -> VisitUpdate:
        check_tenant(self.tenant_id, event.tenant_id, event.event_id)
        exempt = isinstance(event, CustomerChanged)  # master data: last-writer-wins, never too late
        admission = self._gate.admit(event.event_id, event.at, exempt_from_lateness=exempt)
        if admission is not Admission.ACCEPTED:
            return VisitUpdate(admission)
        affected: set[str] = set()
        if isinstance(event, (CheckIn, CheckOut, RepActivity)):
            self._rep_events.setdefault(event.rep_id, []).append(event)
            self._rep_events[event.rep_id].sort(key=_key)
            if isinstance(event, CheckIn):
                self._checkins[event.event_id] = event
            affected |= {c.event_id for c in self._rep_events[event.rep_id] if isinstance(c, CheckIn)}
        elif isinstance(event, RequirementNoted):
            self._notes.append(event)
            affected |= {
                c.event_id
                for c in self._checkins.values()
                if (c.opportunity_id and c.opportunity_id == event.opportunity_id)
                or (not c.opportunity_id and c.customer_id == event.customer_id)
            }
        elif isinstance(event, CustomerChanged):
            if event.location is None:
                return VisitUpdate(admission)
            self._locations.setdefault(event.customer_id, []).append((event.at, event.event_id, event.location))
            self._locations[event.customer_id].sort(key=lambda x: (x[0], x[1]))
            affected |= {c.event_id for c in self._checkins.values() if c.customer_id == event.customer_id}
        else:  # pragma: no cover - typing guard
            raise TypeError(f"unsupported event {type(event).__name__}")
        # The watermark may have moved: undecided visits may now be decided.
        affected |= {vid for vid, v in self._verdicts.items() if not v.decided}
        changed = []
        for visit_id in sorted(affected):
            verdict = self._compute(self._checkins[visit_id])
            if self._verdicts.get(visit_id) != verdict:
                self._verdicts[visit_id] = verdict
                changed.append(verdict)
        changed.sort(key=lambda v: (v.started_at, v.visit_id))
        return VisitUpdate(admission, tuple(changed))

    # ---- queries -----------------------------------------------------------------------------
    @property
    def watermark(self) -> Optional[datetime]:
        return self._gate.watermark

    @property
    def too_late(self) -> tuple[LateEvent, ...]:
        return self._gate.too_late

    def verdict(self, visit_id: str) -> Optional[VisitVerdict]:
        return self._verdicts.get(visit_id)

    def verdicts(self) -> tuple[VisitVerdict, ...]:
        return tuple(sorted(self._verdicts.values(), key=lambda v: (v.started_at, v.visit_id)))

    def pending(self) -> tuple[VisitVerdict, ...]:
        return tuple(v for v in self.verdicts() if not v.effective and not v.decided)

    # ---- rules -------------------------------------------------------------------------------
    def _end_of(self, ci: CheckIn) -> tuple[Optional[RepEvent], str]:
        timeline = self._rep_events.get(ci.rep_id, [])
        linked = [e for e in timeline if isinstance(e, CheckOut) and e.checkin_id == ci.event_id and e.at >= ci.at]
        if linked:
            return linked[0], ENDED_BY_CHECK_OUT
        after = [e for e in timeline if _key(e) > _key(ci)]
        for e in after:
            if isinstance(e, CheckIn):
                break
            if isinstance(e, CheckOut) and not e.checkin_id and e.customer_id in ("", ci.customer_id):
                return e, ENDED_BY_CHECK_OUT
        if after:
            return after[0], ENDED_BY_NEXT_ACTIVITY
        return None, ENDED_BY_NONE

    def _location_of(self, ci: CheckIn) -> Optional[tuple[datetime, str, GeoPoint]]:
        known = self._locations.get(ci.customer_id, [])
        before = [x for x in known if x[0] <= ci.at]
        if before:
            return before[-1]
        return known[0] if known else None

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.tz).isoformat(timespec="minutes")

    def _compute(self, ci: CheckIn) -> VisitVerdict:
        th = self.thresholds
        reasons: list[str] = []
        evidence: list[str] = [ci.event_id]

        # 1. geofence
        distance: Optional[float] = None
        located = self._location_of(ci)
        if located is None:
            reasons.append(f"customer {ci.customer_id} has no geocoded address; the geofence cannot be checked")
        else:
            evidence.append(located[1])
            distance = haversine_m(ci.position, located[2])
            if distance > th.geofence_radius_m:
                reasons.append(
                    f"checked in {distance:.0f} m from the customer's address; "
                    f"an effective visit checks in within {th.geofence_radius_m:g} m"
                )

        # 2. time on site
        end, ended_by = self._end_of(ci)
        on_site: Optional[timedelta] = None
        ended_at: Optional[datetime] = None
        if end is not None and ended_by == ENDED_BY_NEXT_ACTIVITY and end.at - ci.at > th.max_visit_duration:
            reasons.append(
                f"no check-out, and the next activity came {fmt_minutes(end.at - ci.at)} later "
                f"(more than {fmt_minutes(th.max_visit_duration)}); time on site unknown"
            )
            evidence.append(end.event_id)
            end, ended_by = None, ENDED_BY_NONE
        elif end is None:
            reasons.append("no check-out and no later activity yet; time on site unknown")
        else:
            evidence.append(end.event_id)
            ended_at = end.at
            on_site = end.at - ci.at
            if on_site <= th.min_on_site:
                reasons.append(
                    f"on site {fmt_minutes(on_site)}; an effective visit lasts more than {fmt_minutes(th.min_on_site)}"
                )

        # 3. requirement note in [check-in, end + grace]
        window_end = (ended_at + th.note_grace) if ended_at is not None else ci.at + th.max_visit_duration
        notes = sorted(
            (
                n
                for n in self._notes
                if ((n.opportunity_id == ci.opportunity_id) if ci.opportunity_id else (n.customer_id == ci.customer_id))
                and ci.at <= n.at <= window_end
            ),
            key=_key,
        )
        if notes:
            evidence.extend(n.event_id for n in notes)
        else:
            subject = f"opportunity {ci.opportunity_id}" if ci.opportunity_id else f"customer {ci.customer_id}"
            reasons.append(
                f"no requirement note on {subject} between {self._local(ci.at)} and {self._local(window_end)}"
            )

        effective = not reasons
        decide_at = window_end if ended_at is not None else ci.at + th.max_visit_duration
        watermark = self._gate.watermark
        decided = effective or (watermark is not None and watermark >= decide_at)
        return VisitVerdict(
            visit_id=ci.event_id,
            tenant_id=ci.tenant_id,
            rep_id=ci.rep_id,
            customer_id=ci.customer_id,
            opportunity_id=ci.opportunity_id,
            started_at=ci.at,
            ended_at=ended_at,
            ended_by=ended_by,
            on_site=on_site,
            distance_m=None if distance is None else round(distance, 1),
            effective=effective,
            decided=decided,
            reasons=tuple(reasons),
            evidence_event_ids=tuple(evidence),
        )

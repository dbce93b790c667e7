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
   the customer) whose time falls in [check-in, end + note_grace]: one recorded on the
   opportunity in actions (`shared`), or one the visiting rep filed.

Every visit always has a verdict, a pure function of the admitted events and the watermark:
- `effective` True as soon as all criteria hold;
- not effective and `decided` False while it can still become effective (the end or the note
  may still come: until end + note_grace, or check-in + max_visit_duration with no end);
- not effective and `decided` True once the watermark has passed that point. The watermark is
  the rep's own (event time runs per rep): a visit is decided by the rep's later activities, and a
  rep's events late against other reps' streams are not "too late".
Late events (inside the lateness allowance) revise verdicts; `apply` returns the verdicts that
changed so the service publishes each revision. Reasons name each failed criterion with numbers.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Optional, Union
from zoneinfo import ZoneInfo

from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    GeoPoint,
    OpportunityOpened,
    RepActivity,
    RequirementNoted,
    check_tenant,
)
from services.pulse.domain.thresholds import DEFAULT_THRESHOLDS, PulseThresholds
from services.pulse.domain.windows import Admission, DayWindows, EventTimeGate, LateEvent, fmt_minutes

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)

VisitEvent = Union[CheckIn, CheckOut, RepActivity, RequirementNoted, CustomerChanged, OpportunityOpened]
RepEvent = Union[CheckIn, CheckOut, RepActivity]


class _Grid:
    """Square cells about the geofence radius wide: everything within the radius of a point
    is in the cells `around` it."""

    def __init__(self, radius_m: float) -> None:
        self._radius_deg = radius_m / _METRES_PER_DEGREE
        self._size = max(self._radius_deg, 1e-5)

    def cell(self, point: GeoPoint) -> tuple[int, int]:
        return math.floor(point.lat / self._size), math.floor(point.lon / self._size)

    def around(self, point: GeoPoint) -> list[tuple[int, int]]:
        lat_span = self._radius_deg
        # a degree of longitude shrinks with the cosine of the latitude: the span needed at the
        # most poleward latitude in reach
        poleward = min(abs(point.lat) + lat_span, 89.0)
        lon_span = self._radius_deg / math.cos(math.radians(poleward))
        size = self._size
        return [
            (i, j)
            for i in range(math.floor((point.lat - lat_span) / size), math.floor((point.lat + lat_span) / size) + 1)
            for j in range(math.floor((point.lon - lon_span) / size), math.floor((point.lon + lon_span) / size) + 1)
        ]


_METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180  # of latitude, on the mean sphere


def _counts_for(note: RequirementNoted, visit: CheckIn) -> bool:
    """A note on the opportunity's record counts for anyone's visit, a rep's own note only for
    that rep's (see RequirementNoted.shared)."""
    return note.shared or not note.rep_id or note.rep_id == visit.rep_id


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


@dataclass(frozen=True, init=False)
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

    def __init__(
        self, visit_id: str, tenant_id: str, rep_id: str, customer_id: str, opportunity_id: str,
        started_at: datetime, ended_at: Optional[datetime], ended_by: str, on_site: Optional[timedelta],
        distance_m: Optional[float], effective: bool, decided: bool, reasons: tuple[str, ...],
        evidence_event_ids: tuple[str, ...],
    ) -> None:
        # The generated frozen __init__ sets each field through object.__setattr__: 5 us for
        # these 14 fields, a third of judging a visit, which the stream worker does for a
        # third of its events. One dict update does the same at a third of the cost.
        self.__dict__.update(
            visit_id=visit_id, tenant_id=tenant_id, rep_id=rep_id, customer_id=customer_id,
            opportunity_id=opportunity_id, started_at=started_at, ended_at=ended_at, ended_by=ended_by,
            on_site=on_site, distance_m=distance_m, effective=effective, decided=decided, reasons=reasons,
            evidence_event_ids=evidence_event_ids,
        )

    def now_decided(self) -> "VisitVerdict":
        """This verdict once the watermark has passed its decision point: only `decided`
        depends on the watermark, everything else on the events (see VisitTracker.settle)."""
        decided = object.__new__(VisitVerdict)
        decided.__dict__.update(self.__dict__, decided=True)
        return decided


@dataclass(frozen=True)
class VisitUpdate:
    admission: Admission
    changed: tuple[VisitVerdict, ...] = ()


_UNCHANGED = {admission: VisitUpdate(admission) for admission in Admission}


_LAST = "\U0010ffff"  # sorts after any event id: (at, _LAST) follows every key at `at`


def _key(e) -> tuple[datetime, str]:
    return (e.at, e.event_id)


def _between(keys: list, low, high) -> list:
    return keys[bisect.bisect_left(keys, low) : bisect.bisect_right(keys, high)]


class VisitTracker:
    """One tenant's visits. Accepts events in any order; verdicts are recomputed deterministically."""

    def __init__(self, tenant_id: str, tz: ZoneInfo, thresholds: PulseThresholds = DEFAULT_THRESHOLDS) -> None:
        self.tenant_id = tenant_id
        self.tz = tz
        self.thresholds = thresholds
        # Event time runs per rep: a rep's activities are one ordered stream (one partition), so
        # a visit's verdict never depends on how other reps' streams interleave with it — two
        # workers sharing the partitions judge exactly as one does. Master data (customer
        # addresses, shared notes) is never too late and runs on the tenant's own clock ("").
        self._days = DayWindows(tz)
        self._gates: dict[str, EventTimeGate] = {}
        # Indexes keep each event's cost independent of the history's length (20k events/s).
        self._rep_events: dict[str, list[RepEvent]] = {}  # per rep, ordered by (at, event_id)
        self._rep_keys: dict[str, list[tuple[datetime, str]]] = {}  # the same order's keys, for bisect
        self._checkins: dict[str, CheckIn] = {}
        self._rep_checkin_keys: dict[str, list[tuple[datetime, str]]] = {}  # per rep, sorted
        # per opportunity / customer: check-in keys (at, id), sorted
        self._checkins_by_opportunity: dict[str, list[tuple[datetime, str]]] = {}
        self._checkins_by_customer: dict[str, list[tuple[datetime, str]]] = {}
        self._linked_checkouts: dict[str, list[CheckOut]] = {}  # check-in id -> check-outs naming it
        # per opportunity / customer: (at, id, note), sorted
        self._notes_by_opportunity: dict[str, list[tuple[datetime, str, RequirementNoted]]] = {}
        self._notes_by_customer: dict[str, list[tuple[datetime, str, RequirementNoted]]] = {}
        self._locations: dict[str, list[tuple[datetime, str, GeoPoint]]] = {}  # per customer, sorted
        # Check-ins naming no customer are placed at the nearest customer address here, not when
        # the record is read, and placed again whenever an address near them appears or moves:
        # their verdicts depend on the addresses known in the end, not on which came first.
        self._grid = _Grid(thresholds.geofence_radius_m)
        self._customers_near: dict[tuple[int, int], set[str]] = {}  # cell -> customers whose address is in it
        self._unnamed: dict[str, CheckIn] = {}  # visit -> its check-in as received (no customer)
        self._unnamed_near: dict[tuple[int, int], list[str]] = {}  # cell -> unnamed check-ins in it
        self._placed_at: dict[str, set[str]] = {}  # customer -> unnamed check-ins placed there
        # A note naming an opportunity but no customer counts at the opportunity's account,
        # once that is known (the opportunity may be read after the note).
        self._account_of: dict[str, str] = {}  # opportunity -> account
        self._notes_awaiting_account: dict[str, list[RequirementNoted]] = {}  # opportunity -> notes
        self._verdicts: dict[str, VisitVerdict] = {}
        # Undecided visits by the watermark that decides them, and each one's decision point as
        # last judged (queue entries from earlier judgements are stale and skipped).
        self._decide_queues: dict[str, list[tuple[datetime, str]]] = {}  # per rep
        self._decide_at: dict[str, datetime] = {}
        # Between `admit` and `settle`: visits to judge (-> the event that last touched each),
        # and the clocks whose watermark moved (-> their latest event).
        self._dirty: dict[str, str] = {}
        self._moved: dict[str, str] = {}
        self._note_reach = thresholds.max_visit_duration + thresholds.note_grace

    # ---- input -------------------------------------------------------------------------------
    def apply(self, event: VisitEvent) -> VisitUpdate:
        """One event, judged at once: `admit` then `settle`."""
        admission = self.admit(event)
        if admission is not Admission.ACCEPTED:
            return _UNCHANGED[admission]
        changed = self.settle()
        if not changed:
            return _UNCHANGED[admission]
        return VisitUpdate(admission, tuple(verdict for verdict, _ in changed))

    def admit(self, event: VisitEvent) -> Admission:
        """Records the event and marks the visits it may change; `settle` judges them. A
        stream worker admits a whole batch and settles once, so a visit touched by several
        of the batch's events (its check-in, note and check-out often arrive together) is
        judged once. Verdicts are a pure function of the admitted events and the watermark,
        so they end up exactly as if each event had been settled on its own."""
        if event.tenant_id != self.tenant_id:
            check_tenant(self.tenant_id, event.tenant_id, event.event_id)
        kind = type(event)
        # Master data (customer addresses, notes on the opportunity record) is read whole by
        # every worker, interleaved with the activities however the consumers' fetches fall:
        # last-writer-wins and never too late, or a verdict would depend on that interleaving.
        exempt = (
            kind is CustomerChanged
            or kind is OpportunityOpened
            or (kind is RequirementNoted and (event.shared or not event.rep_id))
        )
        clock = "" if exempt else event.rep_id
        gate = self._gates.get(clock)
        if gate is None:
            gate = self._gates[clock] = EventTimeGate(self._days, self.thresholds.lateness_allowance)
        event_id = event.event_id
        admission = gate.admit(event_id, event.at, exempt_from_lateness=exempt)
        if admission is not Admission.ACCEPTED:
            return admission
        self._moved[clock] = event_id
        dirty = self._dirty
        if kind is CheckIn or kind is CheckOut or kind is RepActivity:
            rep_id = event.rep_id
            key = (event.at, event_id)
            keys = self._rep_keys.get(rep_id)
            if keys is None:
                keys = self._rep_keys[rep_id] = []
                self._rep_events[rep_id] = []
                self._rep_checkin_keys[rep_id] = []
            if not keys or keys[-1] < key:  # the usual case: a rep's events arrive in order
                keys.append(key)
                self._rep_events[rep_id].append(event)
            else:
                position = bisect.bisect_left(keys, key)
                keys.insert(position, key)
                self._rep_events[rep_id].insert(position, event)
            # Only the rep's check-in just before the event can end differently (the end search
            # stops at the next check-in); a new check-in is judged itself; a linked check-out
            # ends the check-in it names.
            checkin_keys = self._rep_checkin_keys[rep_id]
            before = bisect.bisect_left(checkin_keys, key)
            if before:
                previous = checkin_keys[before - 1][1]
                if kind is CheckOut or self._may_end(previous, event):
                    dirty[previous] = event_id
            if kind is CheckIn:
                if not event.customer_id:
                    event = self._place(event)
                checkin_keys.insert(before, key)
                self._checkins[event_id] = event
                dirty[event_id] = event_id
                if event.opportunity_id:
                    bisect.insort(self._checkins_by_opportunity.setdefault(event.opportunity_id, []), key)
                bisect.insort(self._checkins_by_customer.setdefault(event.customer_id, []), key)
            elif kind is CheckOut and event.checkin_id:
                self._linked_checkouts.setdefault(event.checkin_id, []).append(event)
                if event.checkin_id in self._checkins:
                    dirty[event.checkin_id] = event_id
        elif kind is RequirementNoted:
            checkins = self._checkins
            if event.opportunity_id:
                # A note counts for check-ins at most max_visit_duration + note_grace before it.
                earliest, latest = (event.at - self._note_reach, ""), (event.at, _LAST)
                bisect.insort(self._notes_by_opportunity.setdefault(event.opportunity_id, []), (event.at, event_id, event))
                for _, c in _between(self._checkins_by_opportunity.get(event.opportunity_id, []), earliest, latest):
                    if _counts_for(event, checkins[c]):
                        dirty[c] = event_id
            account = event.customer_id or self._account_of.get(event.opportunity_id, "")
            if account:
                self._note_at(account, event, event_id)
            else:
                self._notes_awaiting_account.setdefault(event.opportunity_id, []).append(event)
        elif kind is OpportunityOpened:
            if event.opportunity_id not in self._account_of:
                self._account_of[event.opportunity_id] = event.account_id
                for note in self._notes_awaiting_account.pop(event.opportunity_id, ()):
                    self._note_at(event.account_id, note, event_id)
        elif kind is CustomerChanged:
            if event.location is not None:
                located = self._locations.setdefault(event.customer_id, [])
                latest = located[-1][2] if located else None
                bisect.insort(located, (event.at, event_id, event.location))
                for _, c in self._checkins_by_customer.get(event.customer_id, []):
                    dirty[c] = event_id
                if located[-1][2] != latest:
                    self._address_moved(event.customer_id, latest, located[-1][2], event_id)
        else:  # pragma: no cover - typing guard
            raise TypeError(f"unsupported event {kind.__name__}")
        return admission

    def settle(self) -> list[tuple[VisitVerdict, str]]:
        """Judges every visit admitted events may have changed, and marks decided every
        other undecided visit whose decision point its rep's watermark has passed; returns the
        verdicts that changed, each with the event that last touched it (in (start, visit id)
        order)."""
        dirty = self._dirty
        verdicts = self._verdicts
        decide_at = self._decide_at
        changed = []
        for clock, cause in self._moved.items():
            queue = self._decide_queues.get(clock)
            if not queue:
                continue
            watermark = self._gates[clock].watermark
            while queue and queue[0][0] <= watermark:
                visit_id = heapq.heappop(queue)[1]
                point = decide_at.get(visit_id)
                if point is None or point > watermark or visit_id in dirty:
                    continue  # a stale entry (decided, or its point moved later), or judged below
                # No admitted event touched the visit since it was judged, so its verdict is that
                # judgement's with the watermark past the decision point: decided. (The start of a
                # day decides the day before's last visits of every rep at once; judging each in
                # full again would double the cost of that burst.)
                del decide_at[visit_id]
                verdict = verdicts[visit_id] = verdicts[visit_id].now_decided()
                changed.append((verdict, cause))
        self._moved.clear()
        for visit_id in sorted(dirty):
            verdict, decides_at = self._judge(self._checkins[visit_id])
            if verdict.decided:
                decide_at.pop(visit_id, None)
            else:
                decide_at[visit_id] = decides_at
                heapq.heappush(self._decide_queues.setdefault(verdict.rep_id, []), (decides_at, visit_id))
            if verdicts.get(visit_id) != verdict:
                verdicts[visit_id] = verdict
                changed.append((verdict, dirty[visit_id]))
        dirty.clear()
        changed.sort(key=lambda found: (found[0].started_at, found[0].visit_id))
        return changed

    # ---- queries -----------------------------------------------------------------------------
    @property
    def watermark(self) -> Optional[datetime]:
        """The latest event time seen, over every rep."""
        return max((g.watermark for g in self._gates.values() if g.watermark is not None), default=None)

    @property
    def too_late(self) -> tuple[LateEvent, ...]:
        return tuple(sorted((e for g in self._gates.values() for e in g.too_late), key=lambda e: (e.at, e.event_id)))

    def _note_at(self, customer_id: str, note: RequirementNoted, cause: str) -> None:
        """Files a note by customer and marks the check-ins there (naming no opportunity) it
        may count for."""
        bisect.insort(self._notes_by_customer.setdefault(customer_id, []), (note.at, note.event_id, note))
        checkins = self._checkins
        earliest, latest = (note.at - self._note_reach, ""), (note.at, _LAST)
        for _, c in _between(self._checkins_by_customer.get(customer_id, []), earliest, latest):
            if not checkins[c].opportunity_id and _counts_for(note, checkins[c]):
                self._dirty[c] = cause

    def nearest_customer(self, position: GeoPoint) -> Optional[str]:
        """The customer whose latest geocoded address is nearest to `position`, within the
        geofence radius: whom a check-in that names no customer was at."""
        best: Optional[tuple[float, str]] = None
        radius = self.thresholds.geofence_radius_m
        for cell in self._grid.around(position):
            for customer_id in self._customers_near.get(cell, ()):
                distance = haversine_m(position, self._locations[customer_id][-1][2])
                if distance <= radius and (best is None or (distance, customer_id) < best):
                    best = (distance, customer_id)
        return best[1] if best else None

    def _place(self, checkin: CheckIn) -> CheckIn:
        """A check-in naming no customer, at the nearest customer address known now."""
        self._unnamed[checkin.event_id] = checkin
        self._unnamed_near.setdefault(self._grid.cell(checkin.position), []).append(checkin.event_id)
        customer = self.nearest_customer(checkin.position)
        if customer is None:
            return checkin
        self._placed_at.setdefault(customer, set()).add(checkin.event_id)
        return replace(checkin, customer_id=customer)

    def _address_moved(self, customer_id: str, was: Optional[GeoPoint], now: GeoPoint, cause: str) -> None:
        """A customer's latest address appeared or moved: the unnamed check-ins near it, and
        those placed at this customer, are placed again; each that lands elsewhere is judged
        again."""
        if was is not None:
            self._customers_near[self._grid.cell(was)].discard(customer_id)
        self._customers_near.setdefault(self._grid.cell(now), set()).add(customer_id)
        nearby = {visit for cell in self._grid.around(now) for visit in self._unnamed_near.get(cell, ())}
        for visit_id in sorted(nearby | self._placed_at.get(customer_id, set())):
            received = self._unnamed[visit_id]
            placed = self._checkins[visit_id]
            customer = self.nearest_customer(received.position) or ""
            if customer == placed.customer_id:
                continue
            key = (received.at, visit_id)
            keys = self._checkins_by_customer[placed.customer_id]
            del keys[bisect.bisect_left(keys, key)]
            bisect.insort(self._checkins_by_customer.setdefault(customer, []), key)
            if placed.customer_id:
                self._placed_at[placed.customer_id].discard(visit_id)
            if customer:
                self._placed_at.setdefault(customer, set()).add(visit_id)
            self._checkins[visit_id] = replace(received, customer_id=customer)
            self._dirty[visit_id] = cause

    def verdict(self, visit_id: str) -> Optional[VisitVerdict]:
        return self._verdicts.get(visit_id)

    def verdicts(self) -> tuple[VisitVerdict, ...]:
        return tuple(sorted(self._verdicts.values(), key=lambda v: (v.started_at, v.visit_id)))

    def pending(self) -> tuple[VisitVerdict, ...]:
        return tuple(v for v in self.verdicts() if not v.effective and not v.decided)

    # ---- rules -------------------------------------------------------------------------------
    def _may_end(self, visit_id: str, event: Union[CheckIn, RepActivity]) -> bool:
        """False when a check-in, call or email provably cannot change the visit's end: it
        comes after the check-out or activity that already ended it, or it is a call or email
        and the visit was ended by a check-out (only a check-in stops the search for one).
        A rep's next check-in usually comes long after the last visit ended, so this spares
        that visit a re-judging that cannot change it. (Check-outs always re-judge; the
        watermark's effect is the decide queue's.) A verdict not yet re-judged since earlier
        events of the batch is stale only when one of those events already marked the visit,
        so the answer is right whenever it matters."""
        verdict = self._verdicts.get(visit_id)
        if verdict is None:
            return True
        if verdict.ended_at is not None and verdict.ended_at < event.at:
            return False
        return not (verdict.ended_by == ENDED_BY_CHECK_OUT and type(event) is RepActivity)

    def _end_of(self, ci: CheckIn) -> tuple[Optional[RepEvent], str]:
        named = self._linked_checkouts.get(ci.event_id)
        if named:
            linked = [e for e in named if e.rep_id == ci.rep_id and e.at >= ci.at]
            if linked:
                return min(linked, key=_key), ENDED_BY_CHECK_OUT
        timeline = self._rep_events.get(ci.rep_id, [])
        start = bisect.bisect_right(self._rep_keys.get(ci.rep_id, []), _key(ci))
        for index in range(start, len(timeline)):  # no slice: the rest of the rep's history may be long
            e = timeline[index]
            kind = type(e)
            if kind is CheckIn:
                break
            if kind is CheckOut and not e.checkin_id and e.customer_id in ("", ci.customer_id):
                return e, ENDED_BY_CHECK_OUT
        if start < len(timeline):
            return timeline[start], ENDED_BY_NEXT_ACTIVITY
        return None, ENDED_BY_NONE

    def _location_of(self, ci: CheckIn) -> Optional[tuple[datetime, str, GeoPoint]]:
        known = self._locations.get(ci.customer_id)
        if not known:
            return None
        before = bisect.bisect_right(known, (ci.at, _LAST))
        return known[before - 1] if before else known[0]

    def _local(self, at: datetime) -> str:
        return at.astimezone(self.tz).isoformat(timespec="minutes")

    def _judge(self, ci: CheckIn) -> tuple[VisitVerdict, datetime]:
        """The verdict and the watermark at which an undecided verdict becomes final."""
        th = self.thresholds
        reasons: list[str] = []
        evidence: list[str] = [ci.event_id]

        # 1. geofence
        distance: Optional[float] = None
        located = self._location_of(ci) if ci.customer_id else None
        if not ci.customer_id:
            reasons.append(
                f"checked in at no known customer: no customer address within {th.geofence_radius_m:g} m"
            )
        elif located is None:
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
        if ci.opportunity_id:
            candidates = self._notes_by_opportunity.get(ci.opportunity_id, [])
        else:
            candidates = self._notes_by_customer.get(ci.customer_id, []) if ci.customer_id else []
        notes = [n for _, _, n in _between(candidates, (ci.at,), (window_end, _LAST)) if _counts_for(n, ci)]
        if notes:
            evidence.extend(n.event_id for n in notes)
        else:
            subject = (
                f"opportunity {ci.opportunity_id}"
                if ci.opportunity_id
                else f"customer {ci.customer_id}" if ci.customer_id else "any customer"
            )
            reasons.append(
                f"no requirement note on {subject} between {self._local(ci.at)} and {self._local(window_end)}"
            )

        effective = not reasons
        decide_at = window_end if ended_at is not None else ci.at + th.max_visit_duration
        rep_gate = self._gates.get(ci.rep_id)
        watermark = rep_gate.watermark if rep_gate is not None else None
        decided = effective or (watermark is not None and watermark >= decide_at)
        verdict = VisitVerdict(
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
        return verdict, decide_at

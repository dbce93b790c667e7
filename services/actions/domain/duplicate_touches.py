"""Duplicate touches: one customer (an account, or a lead not yet tied to one)
contacted by `duplicate_touch_min_reps` or more different reps within
`duplicate_touch_window` raises one alert, with the touches as evidence.

Touches arrive in any order (the activity stream is keyed by rep), so the rule looks at
every window of the given length that contains the new touch, in event time. Once an
alert is raised for a group, touches inside its period raise no second alert; a later
group that qualifies on its own is a new episode and a new alert.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

_ALERT_NAMESPACE = uuid.UUID("9a4a0c55-1f7e-4d2b-8a3f-6c0b7e5d2f18")
# Bound on the touches kept per customer (the newest win): a customer contacted this
# often inside two windows has its alert long since.
MAX_TOUCHES = 500


@dataclass(frozen=True)
class Touch:
    activity_id: str
    rep_id: str
    at: datetime
    # "call", "email", "wecom_contact", "visit", "check_in".
    kind: str


@dataclass(frozen=True)
class AlertedPeriod:
    start: datetime
    end: datetime
    alert_id: str


@dataclass(frozen=True)
class CustomerTouches:
    """What is remembered about one customer: recent touches and the alerted periods."""

    tenant_id: str
    customer: str
    touches: tuple[Touch, ...] = ()
    alerted: tuple[AlertedPeriod, ...] = ()


@dataclass(frozen=True)
class DuplicateTouchAlert:
    alert_id: str
    tenant_id: str
    customer: str
    touches: tuple[Touch, ...]
    reps: tuple[str, ...]
    window: timedelta
    # The touch that completed the group: the alert's event time.
    raised_at: datetime


@dataclass(frozen=True)
class Outcome:
    record: CustomerTouches
    alert: DuplicateTouchAlert | None = None
    changed: bool = field(default=True)


def customer_key(account_id: str, lead_id: str) -> str:
    """The customer a touch is about: the account when known, else the lead."""
    if account_id:
        return f"account:{account_id}"
    return f"lead:{lead_id}" if lead_id else ""


def alert_id_for(tenant_id: str, customer: str, trigger_activity_id: str) -> str:
    """Deterministic: reprocessing the touch that completed a group raises the same alert."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{tenant_id}\x1f{customer}\x1f{trigger_activity_id}"))


def _group_with(touches: tuple[Touch, ...], new: Touch, window: timedelta, min_reps: int) -> tuple[Touch, ...] | None:
    """The earliest window [s, s + window] containing `new` with touches from at least
    `min_reps` reps, as the touches in it (in time order), or None."""
    starts = sorted({t.at for t in touches if new.at - window <= t.at <= new.at})
    for start in starts:
        inside = tuple(t for t in touches if start <= t.at <= start + window)
        if len({t.rep_id for t in inside}) >= min_reps:
            return inside
    return None


def touched(record: CustomerTouches, touch: Touch, window: timedelta, min_reps: int) -> Outcome:
    if not touch.rep_id or any(t.activity_id == touch.activity_id for t in record.touches):
        return Outcome(record, changed=False)
    newest = max([touch.at, *(t.at for t in record.touches)])
    # A group can only span one window, and late touches arrive at most that much out
    # of order for the rule to see them together: keep two windows back from the newest.
    horizon = newest - 2 * window
    touches = tuple(sorted((*record.touches, touch), key=lambda t: (t.at, t.activity_id)))
    touches = tuple(t for t in touches if t.at >= horizon)[-MAX_TOUCHES:]
    alerted = tuple(p for p in record.alerted if p.end >= horizon)
    kept = replace(record, touches=touches, alerted=alerted)
    if any(p.start <= touch.at <= p.end for p in alerted):
        return Outcome(kept)
    group = _group_with(touches, touch, window, min_reps)
    if group is None:
        return Outcome(kept)
    alert_id = alert_id_for(record.tenant_id, record.customer, touch.activity_id)
    start = group[0].at
    period = AlertedPeriod(start, start + window, alert_id)
    alert = DuplicateTouchAlert(
        alert_id=alert_id,
        tenant_id=record.tenant_id,
        customer=record.customer,
        touches=group,
        reps=tuple(sorted({t.rep_id for t in group})),
        window=window,
        raised_at=touch.at,
    )
    return Outcome(replace(kept, alerted=(*alerted, period)), alert)

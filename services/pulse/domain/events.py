"""Input events of the pulse domain. Adapters map the protobuf activity/domain events onto these.

Every event has a unique `event_id` (redeliveries carry the same id and the same content; the
domain counts an id once), the `tenant_id` it belongs to and `at`, its event time (timezone-aware).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Mapping, Optional, Union


class InvalidEvent(ValueError):
    pass


def _check(event_id: str, tenant_id: str, at: datetime) -> None:
    if not event_id or not event_id.strip():
        raise InvalidEvent("event_id is required")
    if not tenant_id or not tenant_id.strip():
        raise InvalidEvent("tenant_id is required")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidEvent(f"event {event_id}: `at` must be timezone-aware")


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise InvalidEvent(f"invalid coordinates {self.lat},{self.lon}")


@dataclass(frozen=True)
class CheckIn:
    """A rep's check-in (e.g. DingTalk 打卡); `position` is where the phone was. `customer_id` is
    empty when the check-in was at no known customer (it is still judged, and not effective)."""

    event_id: str
    tenant_id: str
    rep_id: str
    customer_id: str
    at: datetime
    position: GeoPoint
    opportunity_id: str = ""

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.rep_id:
            raise InvalidEvent(f"check-in {self.event_id}: rep_id is required")


@dataclass(frozen=True)
class CheckOut:
    """A rep's check-out. `checkin_id` links it to its check-in when the source knows it; otherwise
    it pairs with the rep's latest check-in at the same customer before it (see visits.py)."""

    event_id: str
    tenant_id: str
    rep_id: str
    at: datetime
    customer_id: str = ""
    checkin_id: str = ""
    position: Optional[GeoPoint] = None

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.rep_id:
            raise InvalidEvent(f"check-out {self.event_id}: rep_id is required")


@dataclass(frozen=True)
class RepActivity:
    """Any other activity of a rep (call, email, chat...); ends a visit that has no check-out."""

    event_id: str
    tenant_id: str
    rep_id: str
    at: datetime
    kind: str = "activity"

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.rep_id:
            raise InvalidEvent(f"activity {self.event_id}: rep_id is required")


@dataclass(frozen=True)
class RequirementNoted:
    """A requirement note recorded on an opportunity (handoff). Writing it does not end a visit.

    `shared`: recorded on the opportunity's record in actions, which every pulse worker reads
    whole, so any rep's visit may count it. A note a rep files as an activity is that rep's own
    and counts only for that rep's visits: it travels on the rep's partition, and counting it
    for another rep would make that rep's verdict depend on which worker holds both."""

    event_id: str
    tenant_id: str
    opportunity_id: str
    customer_id: str
    at: datetime
    rep_id: str = ""
    shared: bool = False

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.opportunity_id and not self.customer_id:
            raise InvalidEvent(f"note {self.event_id}: opportunity_id or customer_id is required")


@dataclass(frozen=True)
class OpportunityOpened:
    """An opportunity and the customer account it is for (actions' master data): a note filed
    on the opportunity naming no customer counts as a note at that account."""

    event_id: str
    tenant_id: str
    opportunity_id: str
    account_id: str
    at: datetime

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.opportunity_id or not self.account_id:
            raise InvalidEvent(f"opportunity {self.event_id}: opportunity_id and account_id are required")


@dataclass(frozen=True)
class LeadAssigned:
    event_id: str
    tenant_id: str
    lead_id: str
    rep_id: str
    at: datetime
    # The ordered stream the event arrived on (one source partition). Event time runs per
    # stream: lateness is judged against the stream's own earlier events, never against how
    # a consumer happened to interleave several streams (a replay, another worker).
    stream: str = ""

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.lead_id or not self.rep_id:
            raise InvalidEvent(f"lead assignment {self.event_id}: lead_id and rep_id are required")


@dataclass(frozen=True)
class LeadResponded:
    event_id: str
    tenant_id: str
    lead_id: str
    rep_id: str
    at: datetime
    stream: str = ""  # see LeadAssigned.stream
    # The activity that answered, which the drill-down names; the event id is the lead
    # event's own, since one call can answer two leads.
    activity_id: str = ""

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.lead_id:
            raise InvalidEvent(f"lead response {self.event_id}: lead_id is required")


@dataclass(frozen=True)
class StageAdvanced:
    """An opportunity moved to a stage; `with_all_mandatory_verified` says whether every mandatory
    action of the stage it left was verified (actions owns that fact)."""

    event_id: str
    tenant_id: str
    opportunity_id: str
    rep_id: str
    to_stage: str
    at: datetime
    with_all_mandatory_verified: bool
    from_stage: str = ""
    stream: str = ""  # see LeadAssigned.stream

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.opportunity_id:
            raise InvalidEvent(f"stage change {self.event_id}: opportunity_id is required")


FieldValue = Union[str, int, float, bool, None]


@dataclass(frozen=True)
class CustomerChanged:
    """A change to a customer's master data. `fields` is a patch: only the fields named change; a
    value of None or blank text clears the field. `location` is the geocoded address, if known."""

    event_id: str
    tenant_id: str
    customer_id: str
    at: datetime
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    location: Optional[GeoPoint] = None

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if not self.customer_id:
            raise InvalidEvent(f"customer change {self.event_id}: customer_id is required")
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        return hash((self.event_id, self.tenant_id, self.customer_id, self.at))


GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class ForecastGraded:
    """forecast's credibility grade of an opportunity's forecast submission."""

    event_id: str
    tenant_id: str
    opportunity_id: str
    rep_id: str
    grade: str
    at: datetime
    stream: str = ""  # see LeadAssigned.stream

    def __post_init__(self) -> None:
        _check(self.event_id, self.tenant_id, self.at)
        if self.grade not in GRADES:
            raise InvalidEvent(f"forecast grade {self.event_id}: grade must be one of A, B, C, D")
        if not self.opportunity_id:
            raise InvalidEvent(f"forecast grade {self.event_id}: opportunity_id is required")


def is_present(value: FieldValue) -> bool:
    """A field counts as filled when it is not None and not blank text."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


class ForeignTenant(InvalidEvent):
    """An event of another tenant reached this tenant's state: tenants are walls."""


def check_tenant(expected: str, event_tenant: str, event_id: str) -> None:
    if event_tenant != expected:
        raise ForeignTenant(f"event {event_id} belongs to tenant {event_tenant!r}, not {expected!r}")

"""Kafka records → pulse domain events.

Inputs: the gateway's activities (`gateway.activity.v1`) and the actions service's
accounts (customer master data), opportunities (requirement notes, stage changes) and reps
(the roster: who reports to whom). A record that is not a well-formed event raises
`EnvelopeError` (the worker parks it on the topic's dead-letter twin); a well-formed event
pulse has no use for maps to nothing.

Event ids: the record's `ce_id` (for activities equal to `activity_id`, deterministic per
source id), so a redelivered record is a duplicate the domain ignores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC as _UTC, datetime, timedelta

from google.protobuf.json_format import MessageToDict

from dealpulse.actions.v1 import events_pb2 as actions_pb
from dealpulse.actions.v1 import leads_pb2 as leads_pb
from dealpulse.activity.v1 import events_pb2 as activity_pb
from google.protobuf.message import DecodeError

from kernel.envelope import Envelope, EnvelopeError
from services.pulse.domain.book import PulseBook
from services.pulse.domain.events import (
    CheckIn,
    CheckOut,
    CustomerChanged,
    GeoPoint,
    InvalidEvent,
    LeadAssigned,
    LeadResponded,
    OpportunityOpened,
    RepActivity,
    RequirementNoted,
)
from services.pulse.domain.opportunities import OpportunityFacts
from services.pulse.domain.pulse import PulseEvent

_ACTIVITY = activity_pb.ActivityEvent.DESCRIPTOR.full_name
_ACCOUNT = actions_pb.AccountEvent.DESCRIPTOR.full_name
_OPPORTUNITY = actions_pb.OpportunityEvent.DESCRIPTOR.full_name
_REP = actions_pb.RepEvent.DESCRIPTOR.full_name
_LEAD = leads_pb.LeadEvent.DESCRIPTOR.full_name
_VISIT_KINDS = frozenset({"check_in", "check_out", "visit", "requirement_note"})
# A visit reported after the fact (CSV) is a check-in plus a check-out this much later.
VISIT_END_SUFFIX = ":end"


@dataclass(frozen=True)
class SourceRef:
    """Where an event came from, for drill-down to the raw record."""

    event_id: str
    kind: str
    rep_id: str
    at: datetime
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Mapped:
    events: tuple[PulseEvent, ...]
    source: SourceRef | None


NOTHING = Mapped((), None)


def _position(location: activity_pb.GeoLocation) -> GeoPoint | None:
    if location.HasField("latitude") and location.HasField("longitude"):
        return GeoPoint(location.latitude, location.longitude)
    return None


class RecordMapper:
    """Stateful only where actions' facts need it (opportunity → account/owner, the roster)."""

    def __init__(self, book: PulseBook) -> None:
        self._book = book
        self.opportunities = OpportunityFacts()
        self.roster: dict[str, dict[str, str]] = {}  # tenant -> rep -> manager

    def map(self, topic: str, partition: int, offset: int, value: bytes | None, headers) -> Mapped:
        """Dispatches on the record's `ce_dataschema`, so the same mapping serves the registry
        topics and any topic carrying these schemas (tests, replays)."""
        schema, tenant_id = schema_and_tenant(headers)
        return self.map_record(schema, tenant_id, topic, partition, offset, value, headers)

    def events_of(self, schema: str, tenant_id: str, record) -> tuple[PulseEvent, ...]:
        """The domain events of a record (topic, partition, offset, value, headers) whose
        `schema_and_tenant` the caller already read, without the drill-down reference: the
        stream worker's path, which keeps none."""
        if schema == _ACTIVITY:
            activity, at = _activity_of(tenant_id, record.value)
            return self._activity(activity, at)
        return self.map_record(schema, tenant_id, record.topic, record.partition, record.offset, record.value,
                               record.headers).events

    def map_record(
        self, schema: str, tenant_id: str, topic: str, partition: int, offset: int, value: bytes | None, headers
    ) -> Mapped:
        """`map` for a record whose `schema_and_tenant` the caller already read."""
        if schema == _ACTIVITY:
            activity, at = _activity_of(tenant_id, value)
            events = self._activity(activity, at)
            kind = f"activity.{activity.WhichOneof('activity')}"
            ref = SourceRef(activity.activity_id, kind, activity.rep_id, at, topic, partition, offset)
            return Mapped(events, ref)
        envelope = Envelope.from_headers(headers)  # master data: low volume, full validation
        if schema == _ACCOUNT:
            account = _payload(actions_pb.AccountEvent, value)
            _same_tenant(envelope, account.tenant_id)
            return self._account(envelope, account, topic, partition, offset)
        if schema == _OPPORTUNITY:
            opportunity = _payload(actions_pb.OpportunityEvent, value)
            _same_tenant(envelope, opportunity.tenant_id)
            return self._opportunity(envelope, opportunity, topic, partition, offset)
        if schema == _LEAD:
            lead = _payload(leads_pb.LeadEvent, value)
            _same_tenant(envelope, lead.tenant_id)
            return self._lead(envelope, lead, topic, partition, offset)
        if schema == _REP:
            rep = _payload(actions_pb.RepEvent, value)
            _same_tenant(envelope, rep.tenant_id)
            if rep.WhichOneof("change") == "registered":
                self.roster.setdefault(rep.tenant_id, {})[rep.rep_id] = rep.registered.manager_id
            return NOTHING
        raise EnvelopeError(f"pulse does not consume {schema}")

    # ---- activities ------------------------------------------------------------------------
    def _activity(self, a: activity_pb.ActivityEvent, at: datetime) -> tuple[PulseEvent, ...]:
        kind = a.WhichOneof("activity")
        rep_id = a.rep_id
        if not rep_id or kind is None:
            return ()  # nobody to attribute it to: kept on the topic, counted nowhere
        try:
            if kind not in _VISIT_KINDS:  # calls, emails, chats: most of the stream
                return (RepActivity(a.activity_id, a.tenant_id, rep_id, at, kind),)
            if kind == "check_in":
                return (self._check_in(a, at, _position(a.check_in.location)),)
            if kind == "check_out":
                return (
                    CheckOut(
                        event_id=a.activity_id,
                        tenant_id=a.tenant_id,
                        rep_id=a.rep_id,
                        at=at,
                        customer_id=a.customer_id,
                        checkin_id=a.check_out.check_in_activity_id,
                        position=_position(a.check_out.location),
                    ),
                )
            if kind == "visit":
                start = self._check_in(a, at, _position(a.visit.location))
                if not isinstance(start, CheckIn) or a.visit.duration_seconds <= 0:
                    return (start,)
                end = CheckOut(
                    event_id=a.activity_id + VISIT_END_SUFFIX,
                    tenant_id=a.tenant_id,
                    rep_id=a.rep_id,
                    at=at + timedelta(seconds=a.visit.duration_seconds),
                    customer_id=start.customer_id,
                    checkin_id=start.event_id,
                )
                return (start, end)
            # the last of _VISIT_KINDS: a requirement note (the domain finds the account of an
            # opportunity it names, whenever that is read)
            return (
                RequirementNoted(
                    event_id=a.activity_id,
                    tenant_id=a.tenant_id,
                    opportunity_id=a.opportunity_id,
                    customer_id=a.customer_id,
                    at=at,
                    rep_id=a.rep_id,
                ),
            )
        except InvalidEvent as exc:
            raise EnvelopeError(f"activity {a.activity_id} is not usable: {exc}") from exc

    def _check_in(self, a: activity_pb.ActivityEvent, at: datetime, position: GeoPoint | None) -> PulseEvent:
        """A check-in with a position is a visit, at the customer the source names (else the
        domain places it at the nearest known customer address inside the geofence, again as
        addresses arrive). Without a position it only ends the previous visit."""
        if position is None:
            return RepActivity(event_id=a.activity_id, tenant_id=a.tenant_id, rep_id=a.rep_id, at=at, kind="check_in")
        return CheckIn(
            event_id=a.activity_id,
            tenant_id=a.tenant_id,
            rep_id=a.rep_id,
            customer_id=a.customer_id,
            at=at,
            position=position,
            opportunity_id=a.opportunity_id,
        )

    # ---- actions facts ---------------------------------------------------------------------
    def _lead(self, envelope: Envelope, lead: leads_pb.LeadEvent, topic, partition, offset) -> Mapped:
        """Actions decides what answers a lead (its tenant's minimum call duration, ...):
        pulse takes the assignment and the first `contacted` event as they are. A response
        names the answering activity, so the drill-down reaches the raw activity."""
        change = lead.WhichOneof("change")
        at = utc_datetime(lead.occurred_at)
        event: PulseEvent
        stream = stream_of(topic, partition)
        if change == "assigned":
            event = LeadAssigned(event_id=envelope.event_id, tenant_id=lead.tenant_id, lead_id=lead.lead_id,
                                 rep_id=lead.assigned.rep_id, at=at, stream=stream)
        elif change == "contacted" and lead.contacted.activity_id:
            event = LeadResponded(event_id=envelope.event_id, tenant_id=lead.tenant_id, lead_id=lead.lead_id,
                                  rep_id=lead.contacted.rep_id, at=at, stream=stream,
                                  activity_id=lead.contacted.activity_id)
        else:
            return NOTHING
        return Mapped((event,), SourceRef(envelope.event_id, f"actions.lead.{change}", lead.actor_id, at,
                                          topic, partition, offset))

    def _account(self, envelope: Envelope, account: actions_pb.AccountEvent, topic, partition, offset) -> Mapped:
        change = account.WhichOneof("change")
        if change is None:
            return NOTHING
        data = MessageToDict(getattr(account, change), preserving_proto_field_name=True)
        # Whatever scalar fields the account event carries are customer fields; which of them
        # count is the tenant's `required_customer_fields`.
        fields = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) and k not in ("latitude", "longitude")}
        location = None
        if isinstance(data.get("latitude"), int | float) and isinstance(data.get("longitude"), int | float):
            location = GeoPoint(float(data["latitude"]), float(data["longitude"]))
        at = utc_datetime(account.occurred_at)
        event = CustomerChanged(
            event_id=envelope.event_id,
            tenant_id=account.tenant_id,
            customer_id=account.account_id,
            at=at,
            fields=fields,
            location=location,
        )
        return Mapped((event,), SourceRef(envelope.event_id, f"actions.account.{change}", account.actor_id, at,
                                          topic, partition, offset))

    def _opportunity(self, envelope: Envelope, o: actions_pb.OpportunityEvent, topic, partition, offset) -> Mapped:
        change = o.WhichOneof("change")
        at = utc_datetime(o.occurred_at)
        event: PulseEvent | None = None
        if change == "opened":
            self.opportunities.opened(o.tenant_id, o.opportunity_id, o.opened.account_id, o.opened.owner_id or o.actor_id)
            if o.opened.account_id:
                event = OpportunityOpened(envelope.event_id, o.tenant_id, o.opportunity_id, o.opened.account_id, at)
        elif change == "action_recorded":
            action = o.action_recorded
            event = self.opportunities.action_recorded(
                envelope.event_id, o.tenant_id, o.opportunity_id, at,
                valid=action.valid, is_note=action.kind == actions_pb.ACTION_KIND_NOTE, actor_id=o.actor_id,
            )
        elif change == "stage_changed":
            event = self.opportunities.stage_changed(
                envelope.event_id, o.tenant_id, o.opportunity_id, at,
                o.stage_changed.from_stage, o.stage_changed.to_stage, o.actor_id,
                all_mandatory_verified=o.stage_changed.all_mandatory_verified, stream=stream_of(topic, partition),
            )
        if event is None:
            return NOTHING
        return Mapped((event,), SourceRef(envelope.event_id, f"actions.opportunity.{change}", o.actor_id, at,
                                          topic, partition, offset))


def stream_of(topic: str, partition: int) -> str:
    """The ordered stream a record belongs to: its partition (see LeadAssigned.stream)."""
    return f"{topic}[{partition}]"


def schema_and_tenant(headers) -> tuple[str, str]:
    """The two headers the hot path needs, read in one pass (the full `Envelope.from_headers`
    parse costs more than the rest of an activity's mapping; activity ids are in the payload)."""
    schema = tenant = None
    try:
        # From the end (they are the last CloudEvents headers before content-type and
        # traceparent), so the last occurrence of each wins as in a full parse.
        for name, value in reversed(headers or ()):
            if name == "ce_tenantid":
                if tenant is None:
                    tenant = value.decode()
                    if schema is not None:
                        break
            elif name == "ce_dataschema" and schema is None:
                schema = value.decode()
                if tenant is not None:
                    break
    except (TypeError, ValueError, AttributeError) as exc:
        raise EnvelopeError(f"headers are not (name, bytes) pairs: {exc}") from exc
    if schema is None or tenant is None:
        raise EnvelopeError("missing header ce_dataschema or ce_tenantid")
    return schema, tenant


_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_SECONDS_RANGE = (-62135596800, 253402300799)  # 0001-01-01 .. 9999-12-31, as protobuf's Timestamp


def utc_datetime(timestamp) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime: `ToDatetime()` at a third of its cost,
    and an out-of-range value is a bad record (EnvelopeError), not a crash."""
    seconds, nanos = timestamp.seconds, timestamp.nanos
    if not (_SECONDS_RANGE[0] <= seconds <= _SECONDS_RANGE[1] and 0 <= nanos < 1_000_000_000):
        raise EnvelopeError(f"timestamp {seconds} s {nanos} ns is out of range")
    return _EPOCH + timedelta(0, seconds, nanos // 1000)


def _activity_of(tenant_id: str, value: bytes | None) -> tuple[activity_pb.ActivityEvent, datetime]:
    activity = _payload(activity_pb.ActivityEvent, value)
    if tenant_id != activity.tenant_id or not tenant_id:
        raise EnvelopeError(f"ce_tenantid {tenant_id!r} does not match the payload's tenant {activity.tenant_id!r}")
    return activity, utc_datetime(activity.occurred_at)


def _payload(message_type, value: bytes | None):
    if value is None:
        raise EnvelopeError("record has no value")
    message = message_type()
    try:
        message.ParseFromString(value)
    except DecodeError as exc:
        raise EnvelopeError(f"payload is not a valid {message_type.DESCRIPTOR.full_name}: {exc}") from exc
    return message


def _same_tenant(envelope: Envelope, tenant_id: str) -> None:
    if envelope.tenant_id != tenant_id or not tenant_id:
        raise EnvelopeError(f"ce_tenantid {envelope.tenant_id!r} does not match the payload's tenant {tenant_id!r}")

"""Publishes normalised webhook activities on `gateway.activity.v1`.

The event id is derived from (tenant, source, source id), so a vendor retry that slips past
the de-duplication store (e.g. two concurrent deliveries) carries the id consumers already
saw. Records are keyed `<tenant>/<rep>` so one rep's activities stay in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from aiokafka.errors import KafkaError
from google.protobuf.struct_pb2 import Struct

from dealpulse.activity.v1 import events_pb2 as pb
from kernel.envelope import deterministic_event_id
from kernel.kafka import AioKafkaTransport, EventPublisher
from kernel.topics import ACTIVITY_EVENT
from services.gateway.webhooks.model import Activity, Location, thaw

SOURCES = {
    "dingtalk": pb.ACTIVITY_SOURCE_DINGTALK,
    "wecom": pb.ACTIVITY_SOURCE_WECOM,
    "email": pb.ACTIVITY_SOURCE_EMAIL,
    "csv": pb.ACTIVITY_SOURCE_CSV,
}
EXTERNAL_CONTACT_CHANGES = {
    "external_contact_added": pb.EXTERNAL_CONTACT_CHANGE_ADDED,
    "external_contact_half_added": pb.EXTERNAL_CONTACT_CHANGE_HALF_ADDED,
    "external_contact_edited": pb.EXTERNAL_CONTACT_CHANGE_EDITED,
    "external_contact_deleted": pb.EXTERNAL_CONTACT_CHANGE_DELETED,
    "external_contact_follow_deleted": pb.EXTERNAL_CONTACT_CHANGE_FOLLOW_DELETED,
    "external_contact_transfer_failed": pb.EXTERNAL_CONTACT_CHANGE_TRANSFER_FAILED,
}
EMAIL_DIRECTIONS = {
    "email_sent": pb.EMAIL_DIRECTION_OUTBOUND,
    "email_received": pb.EMAIL_DIRECTION_INBOUND,
    "email": pb.EMAIL_DIRECTION_UNSPECIFIED,
}
# Sends in flight at once: aiokafka batches them, acks=all keeps each durable.
CONCURRENT_SENDS = 500
UNKNOWN_REP = "~"


def activity_id(activity: Activity) -> str:
    return deterministic_event_id(activity.tenant_id, activity.source, activity.source_id)


def partition_key(activity: Activity) -> str:
    return f"{activity.tenant_id}/{activity.rep_id or UNKNOWN_REP}"


def _location(location: Location | None) -> pb.GeoLocation:
    if location is None:
        return pb.GeoLocation()
    message = pb.GeoLocation(address=location.address or "")
    if location.latitude is not None and location.longitude is not None:
        message.latitude = location.latitude
        message.longitude = location.longitude
    return message


def _text(value: object) -> str:
    return "" if value is None else str(value)


def to_event(activity: Activity, received_at: datetime) -> pb.ActivityEvent:
    """The protobuf event of one activity (evidence as a Struct, redacted upstream)."""
    event = pb.ActivityEvent(
        tenant_id=activity.tenant_id,
        activity_id=activity_id(activity),
        source=SOURCES[activity.source],
        source_id=activity.source_id,
        rep_id=activity.rep_id or "",
        customer_id=activity.customer_id or "",
        opportunity_id=activity.opportunity_id or "",
        lead_id=activity.lead_id or "",
        external_contact_id=activity.external_contact_id or "",
    )
    event.occurred_at.FromDatetime(activity.occurred_at)
    event.received_at.FromDatetime(received_at)
    evidence = Struct()
    evidence.update(thaw(activity.evidence))
    event.evidence.CopyFrom(evidence)
    details = activity.details
    vendor_user = _text(details.get("vendor_user_id"))
    kind = activity.kind
    if kind == "checkin":
        event.check_in.CopyFrom(pb.CheckIn(location=_location(activity.location), vendor_user_id=vendor_user))
    elif kind == "checkout":
        event.check_out.CopyFrom(pb.CheckOut(location=_location(activity.location), vendor_user_id=vendor_user))
    elif kind == "visit":
        event.visit.CopyFrom(
            pb.Visit(
                location=_location(activity.location),
                duration_seconds=activity.duration_seconds or 0,
                note=_text(details.get("note")),
            )
        )
    elif kind == "call":
        event.call.CopyFrom(
            pb.Call(
                duration_seconds=activity.duration_seconds or 0,
                vendor_user_id=vendor_user,
                call_type=_text(details.get("call_type")),
                callees=list(details.get("callees") or ()),
            )
        )
    elif kind in EMAIL_DIRECTIONS:
        event.email.CopyFrom(
            pb.Email(
                direction=EMAIL_DIRECTIONS[kind],
                message_id=activity.source_id if activity.source == "email" else "",
                subject=_text(details.get("subject")),
                to=list(details.get("to") or ()),
                cc=list(details.get("cc") or ()),
                is_reply=bool(details.get("is_reply")),
                in_reply_to=_text(details.get("in_reply_to")),
                attachments=[_text(a.get("filename")) for a in details.get("attachments") or ()],
                **{"from": _text(details.get("from"))},
            )
        )
    elif kind in EXTERNAL_CONTACT_CHANGES:
        event.external_contact.CopyFrom(
            pb.ExternalContactChanged(
                change=EXTERNAL_CONTACT_CHANGES[kind], vendor_user_id=vendor_user, state=_text(details.get("state"))
            )
        )
    elif kind == "requirement_note":
        event.requirement_note.CopyFrom(pb.RequirementNote(text=_text(details.get("note"))))
    else:  # model.KINDS and this mapping must move together
        raise ValueError(f"no activity message for kind {kind!r}")
    return event


class ActivityPort(Protocol):
    async def publish(self, activities: Sequence[Activity], received_at: datetime) -> None: ...

    async def close(self) -> None: ...


class EventLogUnavailable(Exception):
    """The broker did not acknowledge: the caller should retry (HTTP 503)."""


class KafkaActivityPublisher:
    """Appends activities and returns once the broker acknowledged every one of them.

    The producer connects on first use, so the gateway serves its other routes while the
    broker is down and a webhook then gets 503 (vendors retry) instead of a dead gateway."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._transport: AioKafkaTransport | None = None
        self._publisher: EventPublisher | None = None
        self._starting = asyncio.Lock()

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.stop()

    async def _started(self) -> EventPublisher:
        async with self._starting:
            if self._publisher is None:
                transport = AioKafkaTransport(self._bootstrap, client_id="gateway-activities")
                try:
                    await transport.start()
                except KafkaError as exc:
                    await transport.stop()
                    raise EventLogUnavailable(f"cannot reach the event log: {exc}") from exc
                self._transport = transport
                self._publisher = EventPublisher(transport.send, source="dealpulse/gateway")
            return self._publisher

    async def publish(self, activities: Sequence[Activity], received_at: datetime) -> None:
        publisher = await self._started()
        try:
            for start in range(0, len(activities), CONCURRENT_SENDS):
                chunk = activities[start : start + CONCURRENT_SENDS]
                await asyncio.gather(*(self._publish_one(publisher, a, received_at) for a in chunk))
        except KafkaError as exc:
            raise EventLogUnavailable(f"the event log did not acknowledge: {exc}") from exc

    @staticmethod
    async def _publish_one(publisher: EventPublisher, activity: Activity, received_at: datetime) -> None:
        event = to_event(activity, received_at)
        await publisher.publish(
            ACTIVITY_EVENT,
            event,
            key=partition_key(activity),
            tenant_id=activity.tenant_id,
            event_time=activity.occurred_at,
            event_id=event.activity_id,
        )

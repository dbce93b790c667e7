"""Builders of the Kafka records pulse consumes (protobuf + CloudEvents headers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dealpulse.actions.v1 import events_pb2 as actions_pb
from dealpulse.actions.v1 import leads_pb2 as leads_pb
from dealpulse.activity.v1 import events_pb2 as activity_pb
from kernel.envelope import Envelope, deterministic_event_id
from kernel.topics import ACCOUNT, ACTIVITY_EVENT, LEAD, OPPORTUNITY, REP

TENANT = "acme"
SITE = (31.2304, 121.4737)  # the customer's geocoded address


@dataclass
class Record:
    """The fields of an aiokafka ConsumerRecord pulse reads."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: list


class Log:
    """An in-memory log: appends records with increasing offsets per topic."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def _append(self, spec, message, tenant: str, at: datetime, event_id: str, subject: str) -> Record:
        envelope = Envelope.for_topic(spec, source="test", subject=subject, tenant_id=tenant, time=at, event_id=event_id)
        offset = sum(r.topic == spec.name for r in self.records)
        record = Record(spec.name, 0, offset, subject.encode(), message.SerializeToString(), envelope.to_headers())
        self.records.append(record)
        return record

    def activity(self, source_id: str, kind: str, at: datetime, *, rep: str = "bob", tenant: str = TENANT,
                 customer: str = "ruijin", opportunity: str = "", lead: str = "", position=SITE, **fields) -> Record:
        event = activity_pb.ActivityEvent(
            tenant_id=tenant, activity_id=deterministic_event_id(tenant, "csv", source_id),
            source=activity_pb.ACTIVITY_SOURCE_CSV, source_id=source_id, rep_id=rep, customer_id=customer,
            opportunity_id=opportunity, lead_id=lead,
        )
        event.occurred_at.FromDatetime(at)
        event.evidence.update({"row": source_id, "password": "***"})
        target = {"check_in": event.check_in, "check_out": event.check_out, "visit": event.visit}.get(kind)
        if target is not None:
            target.SetInParent()
            if position is not None:
                target.location.latitude, target.location.longitude = position
            if kind == "visit":
                event.visit.duration_seconds = fields.get("duration_seconds", 0)
        elif kind == "call":
            event.call.duration_seconds = fields.get("duration_seconds", 0)
        elif kind == "email":
            event.email.direction = fields.get("direction", activity_pb.EMAIL_DIRECTION_OUTBOUND)
        elif kind == "requirement_note":
            event.requirement_note.text = "needs 2 CT rooms"
        elif kind == "external_contact":
            event.external_contact.change = activity_pb.EXTERNAL_CONTACT_CHANGE_ADDED
        return self._append(ACTIVITY_EVENT, event, tenant, at, event.activity_id, f"{tenant}/{rep}")

    def account(self, account_id: str, at: datetime, *, tenant: str = TENANT, name: str = "Ruijin", industry: str = "") -> Record:
        event = actions_pb.AccountEvent(tenant_id=tenant, account_id=account_id, actor_id="bob",
                                        created=actions_pb.AccountCreated(name=name, industry=industry))
        event.occurred_at.FromDatetime(at)
        return self._append(ACCOUNT, event, tenant, at, deterministic_event_id(tenant, "account", account_id), f"{tenant}/{account_id}")

    def opportunity(self, opportunity_id: str, at: datetime, change: str, *, tenant: str = TENANT, **fields) -> Record:
        event = actions_pb.OpportunityEvent(tenant_id=tenant, opportunity_id=opportunity_id, actor_id="bob")
        event.occurred_at.FromDatetime(at)
        if change == "opened":
            event.opened.CopyFrom(actions_pb.OpportunityOpened(account_id=fields.get("account_id", "ruijin"), owner_id="bob"))
        elif change == "stage_changed":
            event.stage_changed.CopyFrom(actions_pb.StageChanged(
                from_stage="qualify", to_stage="propose", all_mandatory_verified=fields.get("verified", True)))
        elif change == "note":
            event.action_recorded.CopyFrom(actions_pb.ActionRecorded(
                action_id=fields.get("action_id", "n1"), kind=actions_pb.ACTION_KIND_NOTE, valid=True))
        event_id = deterministic_event_id(tenant, opportunity_id, change, at.isoformat())
        return self._append(OPPORTUNITY, event, tenant, at, event_id, f"{tenant}/{opportunity_id}")

    def lead(self, lead_id: str, at: datetime, change: str, *, rep: str = "bob", activity_id: str = "",
             tenant: str = TENANT) -> Record:
        event = leads_pb.LeadEvent(tenant_id=tenant, lead_id=lead_id, actor_id="ann")
        event.occurred_at.FromDatetime(at)
        if change == "assigned":
            event.assigned.CopyFrom(leads_pb.LeadAssigned(rep_id=rep))
        else:
            event.contacted.CopyFrom(leads_pb.LeadContacted(activity_id=activity_id, rep_id=rep,
                                                            kind=leads_pb.LEAD_CONTACT_KIND_CALL))
        event_id = deterministic_event_id(tenant, lead_id, change, at.isoformat())
        return self._append(LEAD, event, tenant, at, event_id, f"{tenant}/{lead_id}")

    def rep(self, rep_id: str, manager: str, at: datetime, *, tenant: str = TENANT) -> Record:
        event = actions_pb.RepEvent(tenant_id=tenant, rep_id=rep_id, actor_id="ann",
                                    registered=actions_pb.RepRegistered(display_name=rep_id, manager_id=manager))
        event.occurred_at.FromDatetime(at)
        return self._append(REP, event, tenant, at, deterministic_event_id(tenant, "rep", rep_id), f"{tenant}/{rep_id}")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)

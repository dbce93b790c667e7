"""The leads projection in Redis and the lead <-> protobuf mapping.

Each lead record remembers the `actions.lead.v1` position it reflects (re-applying
after a crash is a no-op; a command waits for its own event). Beside the records:
an index by creation time (lists), one by latest assignment (response-time
statistics), the leads of an account still awaiting a response (activities that name
only the account), and which lead a visit was made for (pulse's verdict names only the
visit).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from redis.asyncio.client import Pipeline

from dealpulse.actions.v1 import leads_pb2, leads_service_pb2 as api
from services.actions.adapters.messages import timestamp
from services.actions.adapters.read_models import ActionsReadModel, Position, _wait
from services.actions.domain.leads import Assignment, ContactKind, LeadState, LeadStatus

# Pulse decides a visit within hours; a mapping older than this is never asked for.
VISIT_MAPPING_TTL = timedelta(days=30)

CONTACT_KIND_TO_PROTO = {
    ContactKind.CALL: leads_pb2.LEAD_CONTACT_KIND_CALL,
    ContactKind.EMAIL: leads_pb2.LEAD_CONTACT_KIND_EMAIL,
    ContactKind.WECOM_CONTACT: leads_pb2.LEAD_CONTACT_KIND_WECOM_CONTACT,
    ContactKind.EFFECTIVE_VISIT: leads_pb2.LEAD_CONTACT_KIND_EFFECTIVE_VISIT,
}
CONTACT_KIND_FROM_PROTO = {value: kind for kind, value in CONTACT_KIND_TO_PROTO.items()}
STATUS_TO_PROTO = {
    LeadStatus.UNASSIGNED: api.LEAD_STATUS_UNASSIGNED,
    LeadStatus.AWAITING_RESPONSE: api.LEAD_STATUS_AWAITING_RESPONSE,
    LeadStatus.RESPONDED: api.LEAD_STATUS_RESPONDED,
    LeadStatus.CONVERTED: api.LEAD_STATUS_CONVERTED,
}
STATUS_FROM_PROTO = {value: status for status, value in STATUS_TO_PROTO.items()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _assignment_json(a: Assignment) -> dict:
    return {
        "rep_id": a.rep_id,
        "assigned_at": a.assigned_at.isoformat(),
        "deadline": _iso(a.deadline),
        "responded_at": _iso(a.responded_at),
        "response_kind": a.response_kind.value if a.response_kind else "",
        "response_activity_id": a.response_activity_id,
        "overdue": a.overdue,
        "ended_at": _iso(a.ended_at),
        "alert_id": a.alert_id,
    }


def _assignment(data: dict) -> Assignment:
    return Assignment(
        rep_id=data["rep_id"],
        assigned_at=datetime.fromisoformat(data["assigned_at"]),
        deadline=_time(data["deadline"]),
        responded_at=_time(data["responded_at"]),
        response_kind=ContactKind(data["response_kind"]) if data["response_kind"] else None,
        response_activity_id=data["response_activity_id"],
        overdue=data["overdue"],
        ended_at=_time(data["ended_at"]),
        alert_id=data["alert_id"],
    )


def lead_to_json(state: LeadState, at: Position) -> str:
    return json.dumps(
        {
            "state": {
                "tenant_id": state.tenant_id,
                "lead_id": state.lead_id,
                "name": state.name,
                "company": state.company,
                "contact_phone": state.contact_phone,
                "contact_email": state.contact_email,
                "source": state.source,
                "account_id": state.account_id,
                "created_at": state.created_at.isoformat(),
                "owner_id": state.owner_id,
                "assignments": [_assignment_json(a) for a in state.assignments],
                "opportunity_id": state.opportunity_id,
                "converted_at": _iso(state.converted_at),
                "version": state.version,
            },
            "partition": at.partition,
            "offset": at.offset,
        }
    )


def lead_from_json(raw: str | bytes) -> tuple[LeadState, Position]:
    data = json.loads(raw)
    s = data["state"]
    s["created_at"] = datetime.fromisoformat(s["created_at"])
    s["converted_at"] = _time(s["converted_at"])
    s["assignments"] = tuple(_assignment(a) for a in s["assignments"])
    return LeadState(**s), Position(data["partition"], data["offset"])


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def lead_to_proto(state: LeadState) -> api.Lead:
    first = state.first_response
    current = state.current
    lead = api.Lead(
        lead_id=state.lead_id,
        name=state.name,
        company=state.company,
        contact_phone=state.contact_phone,
        contact_email=state.contact_email,
        source=state.source,
        account_id=state.account_id,
        owner_id=state.owner_id,
        status=STATUS_TO_PROTO[state.status],
        created_at=timestamp(state.created_at),
        opportunity_id=state.opportunity_id,
        converted_at=timestamp(state.converted_at),
        first_response_at=timestamp(first.responded_at if first else None),
        response_seconds=int(first.response_time.total_seconds()) if first else 0,
        assignments=[
            api.LeadAssignment(
                rep_id=a.rep_id,
                assigned_at=timestamp(a.assigned_at),
                response_due_at=timestamp(a.deadline),
                responded_at=timestamp(a.responded_at),
                response_kind=CONTACT_KIND_TO_PROTO.get(a.response_kind, leads_pb2.LEAD_CONTACT_KIND_UNSPECIFIED),
                response_activity_id=a.response_activity_id,
                overdue=a.overdue,
                ended_at=timestamp(a.ended_at),
                alert_id=a.alert_id,
            )
            for a in state.assignments
        ],
    )
    if state.status is LeadStatus.AWAITING_RESPONSE and current is not None and current.deadline is not None:
        lead.response_due_at.CopyFrom(timestamp(current.deadline))
    return lead


class LeadStore:
    def __init__(self, read_model: ActionsReadModel) -> None:
        self._read_model = read_model
        self._redis = read_model.redis

    def _key(self, tenant: str, kind: str, entity_id: str = "") -> str:
        return self._read_model.key(tenant, kind, entity_id)

    async def lead(self, tenant: str, lead_id: str) -> tuple[LeadState, Position] | None:
        raw = await self._redis.get(self._key(tenant, "lead", lead_id))
        return lead_from_json(raw) if raw else None

    async def wait_for_lead(self, tenant: str, lead_id: str, at: Position, timeout: float) -> LeadState | None:
        return await _wait(lambda: self.lead(tenant, lead_id), at, timeout)

    def queue_lead(self, tx: Pipeline, state: LeadState, at: Position) -> None:
        tenant = state.tenant_id
        tx.set(self._key(tenant, "lead", state.lead_id), lead_to_json(state, at))
        tx.zadd(self._key(tenant, "lead-index"), {state.lead_id: _ms(state.created_at)})
        if state.current is not None:
            tx.zadd(self._key(tenant, "lead-assigned"), {state.lead_id: _ms(state.current.assigned_at)})
        if state.account_id:
            waiting = self._key(tenant, "lead-by-account", state.account_id)
            if state.status is LeadStatus.AWAITING_RESPONSE:
                tx.sadd(waiting, state.lead_id)
            else:
                tx.srem(waiting, state.lead_id)

    async def leads(self, tenant: str, lead_ids: list[str]) -> list[LeadState]:
        if not lead_ids:
            return []
        raws = await self._redis.mget([self._key(tenant, "lead", lead_id) for lead_id in lead_ids])
        return [lead_from_json(raw)[0] for raw in raws if raw]

    async def newest_page(self, tenant: str, start: int, count: int) -> list[LeadState]:
        """Leads `start` .. `start + count - 1` of the tenant, newest first."""
        ids = await self._redis.zrevrange(self._key(tenant, "lead-index"), start, start + count - 1)
        return await self.leads(tenant, [i.decode() for i in ids])

    async def assigned_since(self, tenant: str, since: datetime) -> list[LeadState]:
        """Leads whose latest assignment is at or after `since` (so every lead with an
        assignment in a period starting then)."""
        ids = await self._redis.zrangebyscore(self._key(tenant, "lead-assigned"), _ms(since), "+inf")
        return await self.leads(tenant, [i.decode() for i in ids])

    async def awaiting_for_account(self, tenant: str, account_id: str) -> list[str]:
        return sorted(m.decode() for m in await self._redis.smembers(self._key(tenant, "lead-by-account", account_id)))

    async def remember_visit(self, tenant: str, visit_id: str, lead_ids: list[str]) -> None:
        await self._redis.set(
            self._key(tenant, "visit-leads", visit_id), json.dumps(lead_ids), ex=int(VISIT_MAPPING_TTL.total_seconds())
        )

    async def leads_of_visit(self, tenant: str, visit_id: str) -> list[str]:
        raw = await self._redis.get(self._key(tenant, "visit-leads", visit_id))
        return json.loads(raw) if raw else []

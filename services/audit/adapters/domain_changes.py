"""What the audit log records of each domain event the actions service appends.

Each event becomes one or more audit entries (one per field it changes). An entry's
event id is derived from the event's CloudEvents id and the field, so a redelivered
event yields the same ids and the chain writer records it once.

The events name their actor (`actor_id`) but not the actor's roles, which the
permission decision recorded alongside (by Check) already holds. A change made by
the system (`actor_id` "system": a timer, an approved change) has source SYSTEM; the
others came through the API.
"""

from __future__ import annotations

from collections.abc import Callable

from dealpulse.actions.v1 import events_pb2 as actions
from kernel.envelope import Envelope, deterministic_event_id
from services.audit.adapters.messages import moment
from services.audit.domain.audit_log import AuditDraft, JsonValue, Source

SYSTEM_ACTOR = "system"


def _draft(
    envelope: Envelope,
    event,
    *,
    entity_type: str,
    entity_id: str,
    field: str,
    before: JsonValue,
    after: JsonValue,
    reason: str = "",
) -> AuditDraft:
    actor = event.actor_id or SYSTEM_ACTOR
    return AuditDraft(
        tenant_id=event.tenant_id,
        event_id=deterministic_event_id("audit-of", envelope.event_id, field),
        actor_id=actor,
        actor_roles=(),
        entity_type=entity_type,
        entity_id=entity_id,
        field=field,
        before=before,
        after=after,
        occurred_at=moment(event.occurred_at) if event.HasField("occurred_at") else envelope.time,
        source=Source.SYSTEM if actor == SYSTEM_ACTOR else Source.API,
        reason=reason,
    )


def opportunity_drafts(envelope: Envelope, event: actions.OpportunityEvent) -> list[AuditDraft]:
    change = event.WhichOneof("change")
    one = lambda field, before, after, reason="": [  # noqa: E731
        _draft(envelope, event, entity_type="opportunity", entity_id=event.opportunity_id, field=field,
               before=before, after=after, reason=reason)
    ]
    if change == "opened":
        o = event.opened
        return one(
            "",
            None,
            {
                "account_id": o.account_id,
                "name": o.name,
                "owner_id": o.owner_id,
                "stage": o.stage,
                "amount_cents": o.amount_cents,
                "currency": o.currency,
            },
            "opened",
        )
    if change == "stage_changed":
        return one("stage", event.stage_changed.from_stage, event.stage_changed.to_stage)
    if change == "action_recorded":
        a = event.action_recorded
        kind = actions.ActionKind.Name(a.kind).removeprefix("ACTION_KIND_").lower()
        return one("actions", None, {"action_id": a.action_id, "kind": kind, "valid": a.valid}, "action recorded")
    if change == "stall_deadline_reached":
        r = event.stall_deadline_reached
        return one("stall_deadline", None, {"stage": r.stage, "deadline": moment(r.deadline).isoformat()}, "stall deadline reached")
    return one(change or "", None, None, f"unknown change {change!r}") if change else []


def account_drafts(envelope: Envelope, event: actions.AccountEvent) -> list[AuditDraft]:
    change = event.WhichOneof("change")
    one = lambda field, before, after, reason="": [  # noqa: E731
        _draft(envelope, event, entity_type="account", entity_id=event.account_id, field=field,
               before=before, after=after, reason=reason)
    ]
    if change == "created":
        c = event.created
        return one("", None, {"name": c.name, "industry": c.industry, "owner_id": c.owner_id}, "created")
    if change == "grade_changed":
        g = event.grade_changed
        reason = f"approval request {g.approval_request_id}, approved by {', '.join(g.approved_by)}" if g.approval_request_id else ""
        return one("grade", g.from_grade or None, g.to_grade, reason)
    if change == "marketing_contact_set":
        return one("marketing_contact_id", None, event.marketing_contact_set.marketing_contact_id)
    return one(change, None, None, f"unknown change {change!r}") if change else []


def rep_drafts(envelope: Envelope, event: actions.RepEvent) -> list[AuditDraft]:
    if not event.HasField("registered"):
        return []
    r = event.registered
    return [
        _draft(envelope, event, entity_type="rep", entity_id=event.rep_id, field="manager_id", before=None,
               after=r.manager_id or None, reason=f"registered as {r.display_name}")
    ]


def policy_drafts(envelope: Envelope, event: actions.TenantPolicyEvent) -> list[AuditDraft]:
    return [
        _draft(envelope, event, entity_type="tenant_policy", entity_id="process", field="stall_threshold_seconds",
               before=None, after=event.stall.threshold_seconds)
    ]


TRANSLATORS: dict[str, tuple[type, Callable]] = {
    "actions.opportunity.v1": (actions.OpportunityEvent, opportunity_drafts),
    "actions.account.v1": (actions.AccountEvent, account_drafts),
    "actions.rep.v1": (actions.RepEvent, rep_drafts),
    "actions.policy.v1": (actions.TenantPolicyEvent, policy_drafts),
}

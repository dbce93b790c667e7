"""Applies `actions.lead.v1` to the leads projection and carries out the lead-response
rule's effects (arm/disarm the response deadline, raise and close the alert); turns
activities and pulse's visit verdicts that contact a lead into `contacted` events on
the lead's own topic, so the first-response decision is taken in the lead's order;
and sweeps due response deadlines into `response_deadline_reached` events.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.actions.v1 import leads_pb2
from dealpulse.activity.v1 import events_pb2 as activity_events
from dealpulse.pulse.v1 import events_pb2 as pulse_events
from kernel.clock import Clock
from kernel.deadlines import DeadlineStore, DueDeadline
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.topics import ALERT_RAISED, LEAD
from services.actions.adapters.lead_store import CONTACT_KIND_FROM_PROTO, CONTACT_KIND_TO_PROTO, LeadStore
from services.actions.adapters.messages import moment, timestamp
from services.actions.adapters.projector import DeadlineSweeper, UnprocessableEvent
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import leads as domain
from services.actions.domain.leads import (
    ArmResponseTimer,
    CloseResponseAlert,
    Contact,
    ContactKind,
    DisarmResponseTimer,
    LeadStatus,
    NewLead,
    Outcome,
    RaiseResponseAlert,
)

log = logging.getLogger(__name__)

LEAD_RESPONSE_DEADLINES = "actions.lead_response"


def lead_alert_key(tenant_id: str, lead_id: str) -> str:
    return f"{tenant_id}/lead:{lead_id}"


class LeadProjector:
    def __init__(
        self, read_model: ActionsReadModel, leads: LeadStore, deadlines: DeadlineStore, publisher: EventPublisher
    ) -> None:
        self._read_model = read_model
        self._leads = leads
        self._deadlines = deadlines
        self._publisher = publisher

    # --- the lead's own stream ------------------------------------------------------------
    async def on_lead_event(self, envelope: Envelope, event: leads_pb2.LeadEvent, at: Position) -> None:
        found = await self._leads.lead(event.tenant_id, event.lead_id)
        if found and found[1].covers(at):
            return  # redelivered after a crash: already applied
        state = found[0] if found else None
        occurred_at = moment(event.occurred_at)
        change = event.WhichOneof("change")
        if change == "created":
            if state is not None:
                outcome = Outcome(state)  # two racing creates: the first wins
            else:
                c = event.created
                lead = NewLead(event.lead_id, c.name, c.company, c.contact_phone, c.contact_email, c.source, c.account_id)
                outcome = domain.created(event.tenant_id, lead, occurred_at)
        elif state is None:
            log.warning("ignoring %s for unknown lead %s", change, envelope.subject)
            return
        elif change == "assigned":
            if event.response_limit_seconds <= 0:
                raise UnprocessableEvent(f"assignment of lead {event.lead_id} carries no response limit")
            limit = timedelta(seconds=event.response_limit_seconds)
            outcome = domain.assigned(state, event.assigned.rep_id, occurred_at, limit, event.actor_id)
        elif change == "contacted":
            c = event.contacted
            if c.kind not in CONTACT_KIND_FROM_PROTO:
                raise UnprocessableEvent(f"unknown contact kind {c.kind}")
            contact = Contact(c.activity_id, c.rep_id, CONTACT_KIND_FROM_PROTO[c.kind], occurred_at, c.call_duration_seconds)
            outcome = domain.contacted(state, contact, timedelta(seconds=event.min_call_duration_seconds))
        elif change == "response_deadline_reached":
            r = event.response_deadline_reached
            outcome = domain.response_deadline_reached(state, r.rep_id, moment(r.deadline))
        elif change == "converted":
            outcome = domain.converted(state, event.converted.opportunity_id, occurred_at, event.actor_id)
        else:
            log.warning("ignoring unknown change %r on %s", change, envelope.subject)
            return
        await self._carry_out(outcome, at)

    async def _carry_out(self, outcome: Outcome, at: Position) -> None:
        """Publish first, then change the projection, the timer and the stored alerts in
        one transaction: a crash in between re-applies the event, and the republished
        alert carries the id consumers already saw."""
        state = outcome.state
        stored: list[events.AlertRaised] = []
        for effect in outcome.effects:
            if isinstance(effect, RaiseResponseAlert):
                stored.append(await self._raise(effect))
            elif isinstance(effect, CloseResponseAlert):
                closed = await self._close(state.tenant_id, state.lead_id, effect)
                if closed is not None:
                    stored.append(closed)
        async with self._read_model.transaction() as tx:
            self._leads.queue_lead(tx, state, at)
            for effect in outcome.effects:
                if isinstance(effect, ArmResponseTimer):
                    due = leads_pb2.LeadResponseDeadlineReached(
                        rep_id=effect.rep_id, assigned_at=timestamp(effect.assigned_at), deadline=timestamp(effect.deadline)
                    )
                    self._deadlines.queue_arm(tx, state.key, effect.deadline, due.SerializeToString())
                elif isinstance(effect, DisarmResponseTimer):
                    self._deadlines.queue_disarm(tx, state.key)
            for alert in stored:
                self._read_model.queue_message(tx, state.tenant_id, "alerts", alert.alert_id, alert)
            await tx.execute()

    async def _raise(self, effect: RaiseResponseAlert) -> events.AlertRaised:
        lead = effect.lead
        rep = await self._read_model.entity(lead.tenant_id, "rep", effect.rep_id)
        limit_minutes = (effect.deadline - effect.assigned_at).total_seconds() / 60
        alert = events.AlertRaised(
            tenant_id=lead.tenant_id,
            alert_id=effect.alert_id,
            kind=events.ALERT_KIND_LEAD_RESPONSE_OVERDUE,
            lead_id=lead.lead_id,
            account_id=lead.account_id,
            owner_id=effect.rep_id,
            manager_id=rep[0].get("manager_id", "") if rep else "",
            stage_entered_at=timestamp(effect.assigned_at),
            deadline=timestamp(effect.deadline),
            raised_at=timestamp(effect.deadline),
            message=f"Lead {lead.name}" + (f" ({lead.company})" if lead.company else "")
            + f" assigned to {effect.rep_id} has had no first response within {limit_minutes:g} min",
            # The rep and the manager at once: the article's rule names both.
            escalation_level=events.ESCALATION_LEVEL_MANAGER,
            status=events.ALERT_STATUS_OPEN,
        )
        await self._publisher.publish(
            ALERT_RAISED,
            alert,
            key=lead_alert_key(lead.tenant_id, lead.lead_id),
            tenant_id=lead.tenant_id,
            event_time=effect.deadline,
            event_id=effect.alert_id,
        )
        return alert

    async def _close(self, tenant: str, lead_id: str, effect: CloseResponseAlert) -> events.AlertRaised | None:
        alert = await self._read_model.message(tenant, "alerts", effect.alert_id, events.AlertRaised)
        if alert is None:
            log.warning("closing unknown lead alert %s of %s/%s", effect.alert_id, tenant, lead_id)
            return None
        alert.status = events.ALERT_STATUS_RESOLVED
        alert.status_actor_id = effect.actor_id
        alert.status_note = effect.note
        alert.status_changed_at.CopyFrom(timestamp(effect.at))
        await self._publisher.publish(
            ALERT_RAISED,
            alert,
            key=lead_alert_key(tenant, lead_id),
            tenant_id=tenant,
            event_time=effect.at,
            event_id=f"{effect.alert_id}:resolved:{effect.at.isoformat()}",
        )
        return alert

    # --- contacts from the activity stream and pulse -------------------------------------------
    async def on_activity_event(self, event: activity_events.ActivityEvent, at: Position) -> None:
        """A contact of a lead (named by the activity, or the lead's account) becomes a
        `contacted` event on the lead's topic; a check-in is remembered so pulse's
        verdict on the visit can be traced back to the lead."""
        kind = event.WhichOneof("activity")
        contact: ContactKind | None = None
        if kind == "call" and event.call.duration_seconds > 0:
            contact = ContactKind.CALL
        elif kind == "email" and event.email.direction == activity_events.EMAIL_DIRECTION_OUTBOUND:
            contact = ContactKind.EMAIL
        elif kind == "external_contact" and event.external_contact.change == activity_events.EXTERNAL_CONTACT_CHANGE_ADDED:
            contact = ContactKind.WECOM_CONTACT
        elif kind != "check_in":
            return
        if not event.activity_id or not event.rep_id:
            return
        lead_ids = await self._leads_contacted(event.tenant_id, event.lead_id, event.customer_id)
        if not lead_ids:
            return
        if contact is None:
            await self._leads.remember_visit(event.tenant_id, event.activity_id, lead_ids)
            return
        await self._contacted(
            event.tenant_id,
            lead_ids,
            leads_pb2.LeadContacted(
                activity_id=event.activity_id,
                rep_id=event.rep_id,
                kind=CONTACT_KIND_TO_PROTO[contact],
                call_duration_seconds=event.call.duration_seconds if contact is ContactKind.CALL else 0,
            ),
            moment(event.occurred_at),
        )

    async def on_visit_verdict(self, verdict: pulse_events.VisitVerdict, at: Position) -> None:
        if not (verdict.effective and verdict.decided and verdict.rep_id and verdict.visit_id):
            return
        lead_ids = await self._leads.leads_of_visit(verdict.tenant_id, verdict.visit_id)
        if not lead_ids and verdict.customer_id:
            lead_ids = await self._leads.awaiting_for_account(verdict.tenant_id, verdict.customer_id)
        if not lead_ids:
            return
        contacted = leads_pb2.LeadContacted(
            activity_id=verdict.visit_id, rep_id=verdict.rep_id, kind=leads_pb2.LEAD_CONTACT_KIND_EFFECTIVE_VISIT
        )
        await self._contacted(verdict.tenant_id, lead_ids, contacted, moment(verdict.started_at))

    async def _leads_contacted(self, tenant: str, lead_id: str, account_id: str) -> list[str]:
        """Leads still waiting for their first response that the contact is about."""
        candidates = [lead_id] if lead_id else (await self._leads.awaiting_for_account(tenant, account_id) if account_id else [])
        # An unassigned lead is included: its assignment may be on its way through the
        # lead's stream, which then decides whether the contact came after it.
        waiting = (LeadStatus.UNASSIGNED, LeadStatus.AWAITING_RESPONSE)
        return [lead.lead_id for lead in await self._leads.leads(tenant, candidates) if lead.status in waiting]

    async def _contacted(self, tenant: str, lead_ids: list[str], contacted: leads_pb2.LeadContacted, at) -> None:
        policy = await self._read_model.policy(tenant)
        await asyncio.gather(
            *(
                self._publisher.publish(
                    LEAD,
                    leads_pb2.LeadEvent(
                        tenant_id=tenant,
                        lead_id=lead_id,
                        actor_id=contacted.rep_id,
                        occurred_at=timestamp(at),
                        min_call_duration_seconds=int(policy.min_call_duration.total_seconds()),
                        contacted=contacted,
                    ),
                    key=f"{tenant}/{lead_id}",
                    tenant_id=tenant,
                    event_time=at,
                    event_id=deterministic_event_id("lead-contacted", tenant, lead_id, contacted.activity_id),
                )
                for lead_id in lead_ids
            )
        )


def LeadResponseSweeper(deadlines: DeadlineStore, publisher: EventPublisher, clock: Clock, batch: int = 500) -> DeadlineSweeper:
    async def fire(deadline: DueDeadline) -> None:
        tenant_id, _, lead_id = deadline.member.rpartition("/")
        event = leads_pb2.LeadEvent(
            tenant_id=tenant_id,
            lead_id=lead_id,
            actor_id="system",
            occurred_at=timestamp(deadline.deadline),
            response_deadline_reached=leads_pb2.LeadResponseDeadlineReached.FromString(deadline.payload),
        )
        await publisher.publish(
            LEAD,
            event,
            key=deadline.member,
            tenant_id=tenant_id,
            event_time=deadline.deadline,
            event_id=deterministic_event_id("lead-response-deadline", deadline.member, deadline.deadline.isoformat()),
        )

    return DeadlineSweeper(deadlines, clock, fire, what="lead response", batch=batch)

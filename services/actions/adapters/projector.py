"""Applies the actions topics to the Redis projection and carries out the domain's
effects: arming and disarming stall deadlines, raising alerts and to-dos.

Runs inside the Faust worker's agents (one partition's events in order), but has no
Faust in it, so the same code is exercised by tests against real Redis and Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.activity.v1 import events_pb2 as activity_events
from kernel.clock import Clock
from kernel.deadlines import DeadlineStore, DueDeadline
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.notifications import RedisOutbox
from kernel.topics import ALERT_RAISED, OPPORTUNITY, TODO_CREATED
from services.actions.adapters.messages import (
    LEVEL_FROM_PROTO,
    LEVEL_TO_PROTO,
    STATUS_TO_PROTO,
    kind_from_proto,
    moment,
    policy_from_proto,
    submission_mapping,
    timestamp,
)
from services.actions.adapters.account_projection import AccountProjection, UnappliableAccountEvent
from services.actions.adapters.read_models import ActionsReadModel, Position, policy_record
from services.actions.adapters.reporting.wiring import OUTBOX as NOTIFICATION_OUTBOX
from services.actions.adapters.template_library import template_entity_name
from services.actions.domain import opportunity as domain
from services.actions.domain.accounts import WON_STAGE
from services.actions.domain.errors import InvalidCommand
from services.actions.domain.evidence import Evidence, Verdict
from services.actions.domain.opportunity import (
    ArmEscalation,
    ArmStall,
    ChangeAlertStatus,
    DisarmEscalation,
    DisarmStall,
    EscalateAlert,
    EscalationLevel,
    OpportunityState,
    Outcome,
    RaiseStallAlert,
    StoreAction,
)
from services.actions.domain.pipeline import DEFAULT_STAGES, is_closed
from services.actions.domain.policy import ProcessPolicy

log = logging.getLogger(__name__)


class UnprocessableEvent(Exception):
    """A well-formed record whose content no version of the rules can apply (an
    unknown action kind, a policy outside its bounds): dead-lettered, never retried."""


ESCALATION_DEADLINES = "actions.escalation"
# Appends the expiry event of one due deadline; raising leaves the claim to its lease.
Fire = Callable[[DueDeadline], Awaitable[None]]


class ActionsProjector:
    def __init__(
        self,
        read_model: ActionsReadModel,
        stall_deadlines: DeadlineStore,
        publisher: EventPublisher,
        escalation_deadlines: DeadlineStore | None = None,
        outbox: RedisOutbox | None = None,
    ) -> None:
        self._read_model = read_model
        self._stall = stall_deadlines
        self._publisher = publisher
        self._escalation = escalation_deadlines or DeadlineStore(read_model.redis, ESCALATION_DEADLINES)
        self._accounts = AccountProjection(read_model, publisher, outbox or RedisOutbox(read_model.redis, NOTIFICATION_OUTBOX))

    async def on_opportunity_event(self, envelope: Envelope, event: events.OpportunityEvent, at: Position) -> None:
        found, policy = await self._read_model.opportunity_and_policy(event.tenant_id, event.opportunity_id)
        if found and found[1].covers(at):
            return  # redelivered after a crash: already applied
        state = found[0] if found else None
        if event.stall_threshold_seconds:
            try:
                policy = policy.pinned_to_stall_threshold(timedelta(seconds=event.stall_threshold_seconds))
            except InvalidCommand as exc:
                raise UnprocessableEvent(str(exc)) from exc
        occurred_at = moment(event.occurred_at)
        change = event.WhichOneof("change")
        if change == "opened" and state is not None:
            # Two racing opens both passed validation; the first wins, and recording
            # the position lets the second caller see that and get its conflict.
            outcome = Outcome(state)
        elif change == "opened":
            o = event.opened
            outcome = domain.opened(
                tenant_id=event.tenant_id,
                opportunity_id=event.opportunity_id,
                account_id=o.account_id,
                name=o.name,
                owner_id=o.owner_id,
                stage=o.stage,
                amount_cents=o.amount_cents,
                currency=o.currency,
                at=occurred_at,
                policy=policy,
                template_id=o.template_id,
                template_version=o.template_version,
            )
        elif state is None:
            log.warning("ignoring %s for unknown opportunity %s", change, envelope.subject)
            return
        elif change == "stage_changed":
            change_ = event.stage_changed
            # A template's stages were checked against the pinned template when the
            # command was accepted; the generic pipeline's are fixed.
            if not state.template_id and change_.to_stage not in DEFAULT_STAGES:
                raise UnprocessableEvent(f"unknown stage {change_.to_stage!r}")
            if change_.from_stage != state.stage or is_closed(state.stage):
                # Validated against a state another command has since changed: not
                # applied; the caller reads the current stage back and gets a conflict.
                outcome = Outcome(state)
            else:
                outcome = domain.stage_changed(state, change_.to_stage, occurred_at, policy, event.actor_id)
        elif change == "action_recorded":
            a = event.action_recorded
            try:
                kind = kind_from_proto(a.kind)
            except InvalidCommand as exc:
                raise UnprocessableEvent(str(exc)) from exc
            outcome = domain.action_recorded(
                state,
                action_id=a.action_id,
                kind=kind,
                evidence=Evidence(
                    call_duration_seconds=a.call_duration_seconds,
                    email_message_id=a.email_message_id,
                    checkin_id=a.checkin_id,
                    note=a.note,
                ),
                verdict=Verdict(a.valid, tuple(a.invalid_reasons)),
                occurred_at=occurred_at,
                actor_id=event.actor_id,
                policy=policy,
                template_action_id=a.template_action_id,
                submission=submission_mapping(a.submission, event.actor_id) if a.HasField("submission") else None,
            )
        elif change == "stall_deadline_reached":
            r = event.stall_deadline_reached
            outcome = domain.stall_deadline_reached(state, r.stage, moment(r.deadline), policy)
        elif change == "alert_handled":
            h = event.alert_handled
            outcome = domain.alert_handled(state, h.alert_id, event.actor_id, h.note, occurred_at, policy)
        elif change == "alert_snoozed":
            z = event.alert_snoozed
            outcome = domain.alert_snoozed(state, z.alert_id, event.actor_id, z.reason, occurred_at, moment(z.until))
        elif change == "alert_escalation_due":
            e = event.alert_escalation_due
            if e.level not in LEVEL_FROM_PROTO:
                raise UnprocessableEvent(f"unknown escalation level {e.level}")
            outcome = domain.escalation_due(state, e.alert_id, LEVEL_FROM_PROTO[e.level], moment(e.due_at), policy)
        else:
            log.warning("ignoring unknown change %r on %s", change, envelope.subject)
            return
        await self._carry_out(outcome, policy, at)

    async def _carry_out(self, outcome: Outcome, policy: ProcessPolicy, at: Position) -> None:
        """Publish what must be published, then change the projection, the timers and
        the stored alerts in one transaction: a crash in between re-applies the event,
        and the re-published messages carry the ids consumers already saw."""
        state = outcome.state
        stored: list[events.AlertRaised | events.TodoCreated] = []
        for effect in outcome.effects:
            if isinstance(effect, RaiseStallAlert):
                stored.extend(await self._raise_stall_alert(effect, policy))
            elif isinstance(effect, EscalateAlert):
                stored.extend(await self._escalate(effect, policy))
            elif isinstance(effect, ChangeAlertStatus):
                stored.extend(await self._change_status(state, effect))
        async with self._read_model.transaction() as tx:
            self._read_model.queue_opportunity(tx, state, at)
            if state.stage == WON_STAGE:
                self._read_model.queue_customer_won(tx, state)
            for effect in outcome.effects:
                if isinstance(effect, ArmStall):
                    reached = events.StallDeadlineReached(stage=effect.stage, deadline=timestamp(effect.deadline))
                    self._stall.queue_arm(tx, state.key, effect.deadline, reached.SerializeToString())
                elif isinstance(effect, DisarmStall):
                    self._stall.queue_disarm(tx, state.key)
                elif isinstance(effect, ArmEscalation):
                    due = events.AlertEscalationDue(
                        alert_id=effect.alert_id, level=LEVEL_TO_PROTO[effect.level], due_at=timestamp(effect.due_at)
                    )
                    self._escalation.queue_arm(tx, state.key, effect.due_at, due.SerializeToString())
                elif isinstance(effect, DisarmEscalation):
                    self._escalation.queue_disarm(tx, state.key)
                elif isinstance(effect, StoreAction):
                    self._read_model.queue_action(tx, state, effect.action)
            for message in stored:
                if isinstance(message, events.AlertRaised):
                    self._read_model.queue_message(tx, state.tenant_id, "alerts", message.alert_id, message)
                else:
                    self._read_model.queue_message(tx, state.tenant_id, "todos", message.todo_id, message)
            await tx.execute()

    async def _manager_of(self, tenant: str, person_id: str) -> str:
        found = await self._read_model.entity(tenant, "rep", person_id) if person_id else None
        return found[0].get("manager_id", "") if found else ""

    async def _publish_alert(self, alert: events.AlertRaised, event_id: str, at: datetime) -> None:
        key = f"{alert.tenant_id}/{alert.opportunity_id}"
        await self._publish(ALERT_RAISED, alert, key=key, tenant=alert.tenant_id, at=at, event_id=event_id)

    async def _todo(self, todo: events.TodoCreated, at: datetime) -> None:
        key = f"{todo.tenant_id}/{todo.assignee_id or 'role:' + todo.assignee_role}"
        await self._publish(TODO_CREATED, todo, key=key, tenant=todo.tenant_id, at=at, event_id=todo.todo_id)

    async def _escalate(self, effect: EscalateAlert, policy: ProcessPolicy) -> list:
        opp = effect.opportunity
        alert = await self._read_model.message(opp.tenant_id, "alerts", effect.alert_id, events.AlertRaised)
        if alert is None:
            log.warning("escalating unknown alert %s of %s", effect.alert_id, opp.key)
            return []
        alert.escalation_level = LEVEL_TO_PROTO[effect.level]
        assignee = alert.manager_id
        if effect.level is EscalationLevel.DIRECTOR:
            alert.director_id = await self._manager_of(opp.tenant_id, alert.manager_id)
            assignee = alert.director_id
        alert.status_changed_at.CopyFrom(timestamp(effect.at))
        todo = self._followup_todo(alert, effect.level, assignee, effect.at, policy)
        await asyncio.gather(
            self._publish_alert(alert, f"{effect.alert_id}:{effect.level.value}", effect.at), self._todo(todo, effect.at)
        )
        return [alert, todo]

    async def _change_status(self, state: OpportunityState, effect: ChangeAlertStatus) -> list:
        alert = await self._read_model.message(state.tenant_id, "alerts", effect.alert_id, events.AlertRaised)
        if alert is None:
            return []
        alert.status = STATUS_TO_PROTO[effect.status]
        alert.status_actor_id = effect.actor_id
        alert.status_note = effect.note
        alert.status_changed_at.CopyFrom(timestamp(effect.at))
        if effect.snoozed_until is not None:
            alert.snoozed_until.CopyFrom(timestamp(effect.snoozed_until))
        await self._publish_alert(alert, f"{effect.alert_id}:{effect.status.value}:{effect.at.isoformat()}", effect.at)
        return [alert]

    @staticmethod
    def _followup_todo(
        alert: events.AlertRaised, level: EscalationLevel, assignee: str, at: datetime, policy: ProcessPolicy
    ) -> events.TodoCreated:
        role = level.value
        suffix = "" if level is EscalationLevel.MANAGER else f"-{role}"
        return events.TodoCreated(
            tenant_id=alert.tenant_id,
            todo_id=f"stall-followup-{alert.alert_id}{suffix}",
            assignee_id=assignee,
            assignee_role="" if assignee else role,
            title=f"Follow up with {alert.owner_id} on stalled opportunity {alert.opportunity_name}"
            + ("" if level is EscalationLevel.MANAGER else " (escalated: unhandled by the manager)"),
            opportunity_id=alert.opportunity_id,
            alert_id=alert.alert_id,
            due_at=timestamp(at + policy.manager_followup_window),
            created_at=timestamp(at),
        )

    async def _raise_stall_alert(self, effect: RaiseStallAlert, policy: ProcessPolicy) -> list:
        opp = effect.opportunity
        manager_id = await self._manager_of(opp.tenant_id, opp.owner_id)
        hours = policy.stall_threshold.total_seconds() / 3600
        alert = events.AlertRaised(
            tenant_id=opp.tenant_id,
            alert_id=effect.alert_id,
            kind=events.ALERT_KIND_STALLED_OPPORTUNITY,
            opportunity_id=opp.opportunity_id,
            opportunity_name=opp.name,
            stage=opp.stage,
            owner_id=opp.owner_id,
            manager_id=manager_id,
            stage_entered_at=timestamp(opp.stage_entered_at),
            last_valid_action_at=timestamp(opp.last_valid_action_at),
            deadline=timestamp(effect.deadline),
            raised_at=timestamp(effect.deadline),
            message=f"{opp.name} has had no valid action in stage {opp.stage} for {hours:g} h",
            escalation_level=LEVEL_TO_PROTO[effect.level],
            status=events.ALERT_STATUS_OPEN,
        )
        publishing = [self._publish_alert(alert, effect.alert_id, effect.deadline)]
        stored: list = [alert]
        if effect.level is EscalationLevel.MANAGER:
            todo = self._followup_todo(alert, EscalationLevel.MANAGER, manager_id, effect.deadline, policy)
            publishing.append(self._todo(todo, effect.deadline))
            stored.append(todo)
        await asyncio.gather(*publishing)
        return stored

    async def _publish(self, spec, payload, *, key: str, tenant: str, at: datetime, event_id: str) -> None:
        await self._publisher.publish(spec, payload, key=key, tenant_id=tenant, event_time=at, event_id=event_id)

    async def on_account_event(self, envelope: Envelope, event: events.AccountEvent, at: Position) -> None:
        try:
            await self._accounts.apply(envelope, event, at)
        except UnappliableAccountEvent as exc:
            raise UnprocessableEvent(str(exc)) from exc

    async def on_activity_event(self, event: activity_events.ActivityEvent, at: Position) -> None:
        """Keep the facts a template action's activity evidence is judged by: a
        connected call's minutes, a customer's email reply. (Effective visits come from
        pulse's verdicts; not consumed here yet.)"""
        kind = event.WhichOneof("activity")
        fact: dict | None = None
        if kind == "call" and event.call.duration_seconds > 0:
            fact = {"kind": "call", "minutes": event.call.duration_seconds / 60}
        elif kind == "email" and event.email.direction == activity_events.EMAIL_DIRECTION_INBOUND and event.email.is_reply:
            fact = {"kind": "email_reply", "reply_message_id": event.email.message_id}
        if fact is None or not event.activity_id:
            return
        fact.update(rep_id=event.rep_id, customer_id=event.customer_id, occurred_at=moment(event.occurred_at).isoformat())
        await self._read_model.put_entity(event.tenant_id, "activity", event.activity_id, fact, at, keep_existing=True)

    async def on_template_event(self, event: events.TemplatePublished, at: Position) -> None:
        # Validated when published; a published version never changes, so the first
        # record of a (template, version) stays.
        if not event.template_id or event.version < 1 or not event.document_yaml:
            raise UnprocessableEvent(f"template event of {event.tenant_id} names no template version")
        await self._read_model.put_template(
            event.tenant_id, template_entity_name(event.template_id, event.version), event.document_yaml, at
        )

    async def on_rep_event(self, event: events.RepEvent, at: Position) -> None:
        if not event.HasField("registered"):
            raise UnprocessableEvent(f"rep event of {event.rep_id} carries no change")
        r = event.registered
        await self._read_model.put_entity(
            event.tenant_id,
            "rep",
            event.rep_id,
            {"rep_id": event.rep_id, "display_name": r.display_name, "manager_id": r.manager_id},
            at,
        )

    async def on_policy_event(self, event: events.TenantPolicyEvent, at: Position) -> None:
        try:
            if event.HasField("policy"):
                policy = policy_from_proto(event.policy)
            else:
                # Written before the full policy existed: it changes the stall threshold only.
                current = await self._read_model.policy(event.tenant_id)
                policy = current.with_stall_threshold(timedelta(seconds=event.stall.threshold_seconds))
        except InvalidCommand as exc:
            raise UnprocessableEvent(f"policy of {event.tenant_id}: {exc}") from exc
        await self._read_model.put_entity(event.tenant_id, "policy", "process", policy_record(policy), at)


class DeadlineSweeper:
    """Turns due deadlines of one store into events (`fire` appends one to the entity's
    own topic: `stall_deadline_reached`, `alert_escalation_due`, a lead's
    `response_deadline_reached`), so the decision they lead to is taken in stream order."""

    def __init__(self, deadlines: DeadlineStore, clock: Clock, fire: Fire, *, what: str, batch: int = 500) -> None:
        self._deadlines = deadlines
        self._clock = clock
        self._fire = fire
        self._what = what
        self._batch = batch

    async def sweep(self) -> int:
        """Fire what is due, claiming batch after batch while the claims come back full,
        so a burst of due deadlines does not wait a sweep interval per batch."""
        fired = 0
        while True:
            claimed, fired_now = await self._sweep_once()
            fired += fired_now
            if claimed < self._batch or fired_now == 0:
                return fired

    async def _sweep_once(self) -> tuple[int, int]:
        now = await self._clock.now()
        due = await self._deadlines.claim_due(now, limit=self._batch, lease_seconds=30)
        if not due:
            return 0, 0
        # One produce batch for the whole sweep. A claim is acknowledged only once its
        # expiry event is on the log; one that failed is left to its lease.
        results = await asyncio.gather(*(self._fire(deadline) for deadline in due), return_exceptions=True)
        fired = [deadline.member for deadline, result in zip(due, results) if not isinstance(result, BaseException)]
        for deadline, result in zip(due, results):
            if isinstance(result, BaseException):
                log.error("firing the %s deadline of %s failed: %r", self._what, deadline.member, result)
        if fired:
            await self._deadlines.acknowledge(*fired)
        return len(due), len(fired)


def _opportunity_firing(publisher: EventPublisher, change: str, payload_type: type, id_prefix: str) -> Fire:
    async def fire(deadline: DueDeadline) -> None:
        tenant_id, _, opportunity_id = deadline.member.rpartition("/")
        event = events.OpportunityEvent(
            tenant_id=tenant_id,
            opportunity_id=opportunity_id,
            actor_id="system",
            occurred_at=timestamp(deadline.deadline),
            **{change: payload_type.FromString(deadline.payload)},
        )
        await publisher.publish(
            OPPORTUNITY,
            event,
            key=deadline.member,
            tenant_id=tenant_id,
            event_time=deadline.deadline,
            event_id=deterministic_event_id(id_prefix, deadline.member, deadline.deadline.isoformat()),
        )

    return fire


def StallSweeper(stall_deadlines: DeadlineStore, publisher: EventPublisher, clock: Clock, batch: int = 500) -> DeadlineSweeper:
    fire = _opportunity_firing(publisher, "stall_deadline_reached", events.StallDeadlineReached, "stall-deadline")
    return DeadlineSweeper(stall_deadlines, clock, fire, what="stall", batch=batch)


def EscalationSweeper(
    escalation_deadlines: DeadlineStore, publisher: EventPublisher, clock: Clock, batch: int = 500
) -> DeadlineSweeper:
    fire = _opportunity_firing(publisher, "alert_escalation_due", events.AlertEscalationDue, "alert-escalation")
    return DeadlineSweeper(escalation_deadlines, clock, fire, what="escalation", batch=batch)

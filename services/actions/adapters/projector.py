"""Applies the actions topics to the Redis projection and carries out the domain's
effects: arming and disarming stall deadlines, raising alerts and to-dos.

Runs inside the Faust worker's agents (one partition's events in order), but has no
Faust in it, so the same code is exercised by tests against real Redis and Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.activity.v1 import events_pb2 as activity_events
from kernel.clock import Clock
from kernel.deadlines import DeadlineStore, DueDeadline
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher, OutgoingEvent, PublishAll, publishing_each
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
from services.actions.adapters.opportunity_batch import BatchReads, BatchWrites
from services.actions.adapters.read_models import ActionsReadModel, Position, policy_record
from services.actions.adapters.reporting.wiring import OUTBOX as NOTIFICATION_OUTBOX
from services.actions.adapters.template_library import template_entity_name
from services.actions.domain import opportunity as domain
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
# Appends the expiry events of all the deadlines of one claim at once; raising leaves
# all of them to their lease.
FireAll = Callable[[Sequence[DueDeadline]], Awaitable[None]]
# One opportunity event to apply, and where it sits in its topic.
OpportunityItem = tuple[Envelope, events.OpportunityEvent, Position]
# Parks the event at a position that no rule can apply.
Reject = Callable[[Position, "UnprocessableEvent"], Awaitable[None]]


class ActionsProjector:
    def __init__(
        self,
        read_model: ActionsReadModel,
        stall_deadlines: DeadlineStore,
        publisher: EventPublisher,
        escalation_deadlines: DeadlineStore | None = None,
        outbox: RedisOutbox | None = None,
        *,
        publish_all: PublishAll | None = None,
    ) -> None:
        """`publish_all` publishes the alerts and to-dos of a batch at once (a
        `BatchPublisher`'s); by default they go through `publisher` one by one."""
        self._read_model = read_model
        self._stall = stall_deadlines
        self._publish_all = publish_all or publishing_each(publisher)
        self._escalation = escalation_deadlines or DeadlineStore(read_model.redis, ESCALATION_DEADLINES)
        self._accounts = AccountProjection(read_model, publisher, outbox or RedisOutbox(read_model.redis, NOTIFICATION_OUTBOX))

    async def on_opportunity_event(self, envelope: Envelope, event: events.OpportunityEvent, at: Position) -> None:
        """Apply one event (a batch of one); an unappliable one raises UnprocessableEvent."""

        async def reject(_: Position, problem: UnprocessableEvent) -> None:
            raise problem

        await self.on_opportunity_batch([(envelope, event, at)], reject)

    async def on_opportunity_batch(self, items: Sequence[OpportunityItem], reject: Reject) -> None:
        """Apply a batch of opportunity events, each opportunity's in the given (topic)
        order, as one unit: one read of every state and policy, the decisions in memory
        (an opportunity's later event sees its earlier ones), every alert and to-do
        published at once and acknowledged, then one transaction with every change.

        An event no rule can apply goes to `reject` (which parks it) before anything of
        the batch is published or written, and the others are applied without it. A
        crash anywhere re-applies the batch: events whose position the stored state
        covers are no-ops, and what is re-published carries the ids consumers saw."""
        stored, policies = await self._read_model.opportunities_and_policies(
            (event.tenant_id, event.opportunity_id) for _, event, _ in items
        )
        latest = dict(stored)
        decided: list[tuple[Outcome, ProcessPolicy, Position]] = []
        for envelope, event, at in items:
            key = (event.tenant_id, event.opportunity_id)
            found = latest.get(key)
            if found and found[1].covers(at):
                continue  # redelivered after a crash: already applied
            try:
                outcome = self._decide(envelope, event, found[0] if found else None, policies[event.tenant_id])
            except UnprocessableEvent as problem:
                await reject(at, problem)
                continue
            if outcome is not None:
                latest[key] = (outcome[0].state, at)
                decided.append((*outcome, at))
        if decided:
            await self._carry_out(decided)

    def _decide(
        self, envelope: Envelope, event: events.OpportunityEvent, state: OpportunityState | None, policy: ProcessPolicy
    ) -> tuple[Outcome, ProcessPolicy] | None:
        """The domain's outcome of one event and the policy it was decided with, or None
        for an event that changes nothing (not even the stored position)."""
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
            return Outcome(state), policy
        if change == "opened":
            o = event.opened
            return domain.opened(
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
            ), policy
        if state is None:
            log.warning("ignoring %s for unknown opportunity %s", change, envelope.subject)
            return None
        if change == "stage_changed":
            change_ = event.stage_changed
            # A template's stages were checked against the pinned template when the
            # command was accepted; the generic pipeline's are fixed.
            if not state.template_id and change_.to_stage not in DEFAULT_STAGES:
                raise UnprocessableEvent(f"unknown stage {change_.to_stage!r}")
            if change_.from_stage != state.stage or is_closed(state.stage):
                # Validated against a state another command has since changed: not
                # applied; the caller reads the current stage back and gets a conflict.
                return Outcome(state), policy
            return domain.stage_changed(state, change_.to_stage, occurred_at, policy, event.actor_id), policy
        if change == "action_recorded":
            a = event.action_recorded
            try:
                kind = kind_from_proto(a.kind)
            except InvalidCommand as exc:
                raise UnprocessableEvent(str(exc)) from exc
            return domain.action_recorded(
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
            ), policy
        if change == "stall_deadline_reached":
            r = event.stall_deadline_reached
            return domain.stall_deadline_reached(state, r.stage, moment(r.deadline), policy), policy
        if change == "alert_handled":
            h = event.alert_handled
            return domain.alert_handled(state, h.alert_id, event.actor_id, h.note, occurred_at, policy), policy
        if change == "alert_snoozed":
            z = event.alert_snoozed
            return domain.alert_snoozed(state, z.alert_id, event.actor_id, z.reason, occurred_at, moment(z.until)), policy
        if change == "alert_escalation_due":
            e = event.alert_escalation_due
            if e.level not in LEVEL_FROM_PROTO:
                raise UnprocessableEvent(f"unknown escalation level {e.level}")
            return domain.escalation_due(state, e.alert_id, LEVEL_FROM_PROTO[e.level], moment(e.due_at), policy), policy
        log.warning("ignoring unknown change %r on %s", change, envelope.subject)
        return None

    async def _carry_out(self, decided: Sequence[tuple[Outcome, ProcessPolicy, Position]]) -> None:
        """Publish what must be published, then change the projection, the timers and
        the stored alerts in one transaction: a crash in between re-applies the batch,
        and the re-published messages carry the ids consumers already saw."""
        reads = BatchReads(self._read_model)
        await reads.prefetch(
            ((e.opportunity.tenant_id, e.opportunity.owner_id) for o, _, _ in decided for e in o.effects if isinstance(e, RaiseStallAlert)),
            (
                (o.state.tenant_id, e.alert_id)
                for o, _, _ in decided
                for e in o.effects
                if isinstance(e, (EscalateAlert, ChangeAlertStatus))
            ),
        )
        writes = BatchWrites(self._read_model)
        outgoing: list[OutgoingEvent] = []
        for outcome, policy, at in decided:
            state = outcome.state
            writes.opportunity(state, at)
            for effect in outcome.effects:
                if isinstance(effect, RaiseStallAlert):
                    await self._raise_stall_alert(effect, policy, reads, writes, outgoing)
                elif isinstance(effect, EscalateAlert):
                    await self._escalate(effect, policy, reads, writes, outgoing)
                elif isinstance(effect, ChangeAlertStatus):
                    await self._change_status(state, effect, reads, writes, outgoing)
                elif isinstance(effect, ArmStall):
                    reached = events.StallDeadlineReached(stage=effect.stage, deadline=timestamp(effect.deadline))
                    writes.arm(self._stall, state.key, effect.deadline, reached.SerializeToString())
                elif isinstance(effect, DisarmStall):
                    writes.disarm(self._stall, state.key)
                elif isinstance(effect, ArmEscalation):
                    due = events.AlertEscalationDue(
                        alert_id=effect.alert_id, level=LEVEL_TO_PROTO[effect.level], due_at=timestamp(effect.due_at)
                    )
                    writes.arm(self._escalation, state.key, effect.due_at, due.SerializeToString())
                elif isinstance(effect, DisarmEscalation):
                    writes.disarm(self._escalation, state.key)
                elif isinstance(effect, StoreAction):
                    writes.action(state, effect.action)
        await self._publish_all(outgoing)
        tx = self._read_model.packed_transaction()
        writes.queue(tx)
        await tx.execute()

    @staticmethod
    def _alert_out(alert: events.AlertRaised, event_id: str, at: datetime) -> OutgoingEvent:
        key = f"{alert.tenant_id}/{alert.opportunity_id}"
        return OutgoingEvent(ALERT_RAISED, alert, key=key, tenant_id=alert.tenant_id, event_time=at, event_id=event_id)

    @staticmethod
    def _todo_out(todo: events.TodoCreated, at: datetime) -> OutgoingEvent:
        key = f"{todo.tenant_id}/{todo.assignee_id or 'role:' + todo.assignee_role}"
        return OutgoingEvent(TODO_CREATED, todo, key=key, tenant_id=todo.tenant_id, event_time=at, event_id=todo.todo_id)

    @staticmethod
    def _record(alert: events.AlertRaised, reads: BatchReads, writes: BatchWrites) -> None:
        reads.remember(alert)
        writes.message(alert.tenant_id, "alerts", alert.alert_id, alert)

    async def _escalate(
        self, effect: EscalateAlert, policy: ProcessPolicy, reads: BatchReads, writes: BatchWrites, outgoing: list
    ) -> None:
        opp = effect.opportunity
        alert = await reads.alert(opp.tenant_id, effect.alert_id)
        if alert is None:
            log.warning("escalating unknown alert %s of %s", effect.alert_id, opp.key)
            return
        alert.escalation_level = LEVEL_TO_PROTO[effect.level]
        assignee = alert.manager_id
        if effect.level is EscalationLevel.DIRECTOR:
            alert.director_id = await reads.manager_of(opp.tenant_id, alert.manager_id)
            assignee = alert.director_id
        alert.status_changed_at.CopyFrom(timestamp(effect.at))
        todo = self._followup_todo(alert, effect.level, assignee, effect.at, policy)
        outgoing += [self._alert_out(alert, f"{effect.alert_id}:{effect.level.value}", effect.at), self._todo_out(todo, effect.at)]
        self._record(alert, reads, writes)
        writes.message(todo.tenant_id, "todos", todo.todo_id, todo)

    async def _change_status(
        self, state: OpportunityState, effect: ChangeAlertStatus, reads: BatchReads, writes: BatchWrites, outgoing: list
    ) -> None:
        alert = await reads.alert(state.tenant_id, effect.alert_id)
        if alert is None:
            return
        alert.status = STATUS_TO_PROTO[effect.status]
        alert.status_actor_id = effect.actor_id
        alert.status_note = effect.note
        alert.status_changed_at.CopyFrom(timestamp(effect.at))
        if effect.snoozed_until is not None:
            alert.snoozed_until.CopyFrom(timestamp(effect.snoozed_until))
        outgoing.append(self._alert_out(alert, f"{effect.alert_id}:{effect.status.value}:{effect.at.isoformat()}", effect.at))
        self._record(alert, reads, writes)

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

    async def _raise_stall_alert(
        self, effect: RaiseStallAlert, policy: ProcessPolicy, reads: BatchReads, writes: BatchWrites, outgoing: list
    ) -> None:
        opp = effect.opportunity
        manager_id = await reads.manager_of(opp.tenant_id, opp.owner_id)
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
        outgoing.append(self._alert_out(alert, effect.alert_id, effect.deadline))
        self._record(alert, reads, writes)
        if effect.level is EscalationLevel.MANAGER:
            todo = self._followup_todo(alert, EscalationLevel.MANAGER, manager_id, effect.deadline, policy)
            outgoing.append(self._todo_out(todo, effect.deadline))
            writes.message(todo.tenant_id, "todos", todo.todo_id, todo)

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
    `response_deadline_reached`; `fire_all` appends a claim's, or a chunk of it, at
    once), so the decision they lead to is taken in stream order."""

    def __init__(
        self,
        deadlines: DeadlineStore,
        clock: Clock,
        fire: Fire | None = None,
        *,
        what: str,
        batch: int = 500,
        fire_all: FireAll | None = None,
        chunk: int | None = None,
    ) -> None:
        """`batch` deadlines are claimed at once, their expiry events appended `chunk`
        (default: all of them) at a time."""
        if (fire is None) == (fire_all is None):
            raise TypeError("a sweeper needs either fire or fire_all")
        self._deadlines = deadlines
        self._clock = clock
        self._fire_all = fire_all or self._each(fire)
        self._what = what
        self._batch = batch
        self._chunk = chunk or batch

    def _each(self, fire: Fire) -> Callable[[Sequence[DueDeadline]], Awaitable[list[DueDeadline]]]:
        async def fire_each(due: Sequence[DueDeadline]) -> list[DueDeadline]:
            results = await asyncio.gather(*(fire(deadline) for deadline in due), return_exceptions=True)
            for deadline, result in zip(due, results):
                if isinstance(result, BaseException):
                    log.error("firing the %s deadline of %s failed: %r", self._what, deadline.member, result)
            return [deadline for deadline, result in zip(due, results) if not isinstance(result, BaseException)]

        return fire_each

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
        # One produce batch per chunk: the consumer of the expiry events starts on the
        # first while the next is built. A deadline is acknowledged only once its
        # expiry event is on the log; one whose produce failed is left to its lease.
        fired: list[DueDeadline] = []
        for start in range(0, len(due), self._chunk):
            chunk = due[start : start + self._chunk]
            try:
                done = await self._fire_all(chunk)
            except Exception as exc:
                log.error("firing %d %s deadlines failed: %r", len(chunk), self._what, exc)
                break
            fired += chunk if done is None else done
        if fired:
            await self._deadlines.acknowledge(*(deadline.member for deadline in fired))
        return len(due), len(fired)


def _opportunity_firing(publish_all: PublishAll, change: str, payload_type: type, id_prefix: str) -> FireAll:
    async def fire_all(due: Sequence[DueDeadline]) -> None:
        outgoing = []
        for deadline in due:
            tenant_id, _, opportunity_id = deadline.member.rpartition("/")
            event = events.OpportunityEvent(
                tenant_id=tenant_id,
                opportunity_id=opportunity_id,
                actor_id="system",
                occurred_at=timestamp(deadline.deadline),
                **{change: payload_type.FromString(deadline.payload)},
            )
            event_id = deterministic_event_id(id_prefix, deadline.member, deadline.deadline.isoformat())
            outgoing.append(
                OutgoingEvent(OPPORTUNITY, event, key=deadline.member, tenant_id=tenant_id, event_time=deadline.deadline, event_id=event_id)
            )
        await publish_all(outgoing)

    return fire_all


# Stall deadlines fall due in bursts (a whole team's opportunities at one threshold):
# claimed this many at once (one script call), their expiry events produced a chunk
# at a time, so the worker's projection, fed by a consumer that fetches every 20 ms at
# the most, starts on the first chunk while the sweeper builds the next.
STALL_CLAIM = 2000
STALL_PRODUCE_CHUNK = 500


def StallSweeper(
    stall_deadlines: DeadlineStore,
    publisher: EventPublisher,
    clock: Clock,
    batch: int = STALL_CLAIM,
    *,
    publish_all: PublishAll | None = None,
) -> DeadlineSweeper:
    """`publish_all` publishes a claim's expiry events at once (a `BatchPublisher`'s);
    by default they go through `publisher` one by one."""
    fire_all = _opportunity_firing(
        publish_all or publishing_each(publisher), "stall_deadline_reached", events.StallDeadlineReached, "stall-deadline"
    )
    return DeadlineSweeper(stall_deadlines, clock, what="stall", batch=batch, fire_all=fire_all, chunk=STALL_PRODUCE_CHUNK)


def EscalationSweeper(
    escalation_deadlines: DeadlineStore,
    publisher: EventPublisher,
    clock: Clock,
    batch: int = 500,
    *,
    publish_all: PublishAll | None = None,
) -> DeadlineSweeper:
    fire_all = _opportunity_firing(
        publish_all or publishing_each(publisher), "alert_escalation_due", events.AlertEscalationDue, "alert-escalation"
    )
    return DeadlineSweeper(escalation_deadlines, clock, what="escalation", batch=batch, fire_all=fire_all)

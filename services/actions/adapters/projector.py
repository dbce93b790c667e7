"""Applies the actions topics to the Redis projection and carries out the domain's
effects: arming and disarming stall deadlines, raising alerts and to-dos.

Runs inside the Faust worker's agents (one partition's events in order), but has no
Faust in it, so the same code is exercised by tests against real Redis and Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from dealpulse.actions.v1 import events_pb2 as events
from kernel.clock import Clock
from kernel.deadlines import DeadlineStore, DueDeadline
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.topics import ALERT_RAISED, OPPORTUNITY, TODO_CREATED
from services.actions.adapters.messages import kind_from_proto, moment, timestamp
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import opportunity as domain
from services.actions.domain.errors import InvalidCommand
from services.actions.domain.evidence import Evidence, Verdict
from services.actions.domain.opportunity import ArmStall, DisarmStall, Outcome, RaiseStallAlert, StoreAction
from services.actions.domain.pipeline import DEFAULT_STAGES, is_closed
from services.actions.domain.policy import DEFAULT_POLICY, ProcessPolicy

log = logging.getLogger(__name__)


class UnprocessableEvent(Exception):
    """A well-formed record whose content no version of the rules can apply (an
    unknown action kind, a policy outside its bounds): dead-lettered, never retried."""


class ActionsProjector:
    def __init__(self, read_model: ActionsReadModel, stall_deadlines: DeadlineStore, publisher: EventPublisher) -> None:
        self._read_model = read_model
        self._stall = stall_deadlines
        self._publisher = publisher

    async def on_opportunity_event(self, envelope: Envelope, event: events.OpportunityEvent, at: Position) -> None:
        found, policy = await self._read_model.opportunity_and_policy(event.tenant_id, event.opportunity_id)
        if found and found[1].covers(at):
            return  # redelivered after a crash: already applied
        state = found[0] if found else None
        if event.stall_threshold_seconds:
            try:
                policy = policy.with_stall_threshold(timedelta(seconds=event.stall_threshold_seconds))
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
            )
        elif state is None:
            log.warning("ignoring %s for unknown opportunity %s", change, envelope.subject)
            return
        elif change == "stage_changed":
            change_ = event.stage_changed
            if change_.to_stage not in DEFAULT_STAGES:
                raise UnprocessableEvent(f"unknown stage {change_.to_stage!r}")
            if change_.from_stage != state.stage or is_closed(state.stage):
                # Validated against a state another command has since changed: not
                # applied; the caller reads the current stage back and gets a conflict.
                outcome = Outcome(state)
            else:
                outcome = domain.stage_changed(state, change_.to_stage, occurred_at, policy)
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
            )
        elif change == "stall_deadline_reached":
            r = event.stall_deadline_reached
            outcome = domain.stall_deadline_reached(state, r.stage, moment(r.deadline))
        else:
            log.warning("ignoring unknown change %r on %s", change, envelope.subject)
            return
        await self._carry_out(outcome, policy, at)

    async def _carry_out(self, outcome: Outcome, policy: ProcessPolicy, at: Position) -> None:
        """Publish what must be published, then change the projection, the timer and
        the stored alerts in one transaction: a crash in between re-applies the event,
        and the re-published messages carry the ids consumers already saw."""
        raised = [
            await self._raise_stall_alert(effect, policy) for effect in outcome.effects if isinstance(effect, RaiseStallAlert)
        ]
        state = outcome.state
        async with self._read_model.transaction() as tx:
            self._read_model.queue_opportunity(tx, state, at)
            for effect in outcome.effects:
                if isinstance(effect, ArmStall):
                    reached = events.StallDeadlineReached(stage=effect.stage, deadline=timestamp(effect.deadline))
                    self._stall.queue_arm(tx, state.key, effect.deadline, reached.SerializeToString())
                elif isinstance(effect, DisarmStall):
                    self._stall.queue_disarm(tx, state.key)
                elif isinstance(effect, StoreAction):
                    self._read_model.queue_action(tx, state, effect.action)
            for alert, todo in raised:
                self._read_model.queue_message(tx, state.tenant_id, "alerts", alert.alert_id, alert)
                self._read_model.queue_message(tx, state.tenant_id, "todos", todo.todo_id, todo)
            await tx.execute()

    async def _raise_stall_alert(
        self, effect: RaiseStallAlert, policy: ProcessPolicy
    ) -> tuple[events.AlertRaised, events.TodoCreated]:
        opp = effect.opportunity
        owner = await self._read_model.entity(opp.tenant_id, "rep", opp.owner_id)
        manager_id = owner[0].get("manager_id", "") if owner else ""
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
        )
        todo = events.TodoCreated(
            tenant_id=opp.tenant_id,
            todo_id=f"stall-followup-{effect.alert_id}",
            assignee_id=manager_id,
            assignee_role="" if manager_id else "manager",
            title=f"Follow up with {opp.owner_id} on stalled opportunity {opp.name}",
            opportunity_id=opp.opportunity_id,
            alert_id=effect.alert_id,
            due_at=timestamp(effect.deadline + policy.manager_followup_window),
            created_at=timestamp(effect.deadline),
        )
        await asyncio.gather(
            self._publish(ALERT_RAISED, alert, key=opp.key, tenant=opp.tenant_id, at=effect.deadline, event_id=effect.alert_id),
            self._publish(
                TODO_CREATED,
                todo,
                key=f"{opp.tenant_id}/{manager_id or 'role:manager'}",
                tenant=opp.tenant_id,
                at=effect.deadline,
                event_id=todo.todo_id,
            ),
        )
        return alert, todo

    async def _publish(self, spec, payload, *, key: str, tenant: str, at: datetime, event_id: str) -> None:
        await self._publisher.publish(spec, payload, key=key, tenant_id=tenant, event_time=at, event_id=event_id)

    async def on_account_event(self, event: events.AccountEvent, at: Position) -> None:
        if not event.HasField("created"):
            raise UnprocessableEvent(f"account event of {event.account_id} carries no change")
        c = event.created
        # Accounts are created once: a racing create with other details loses.
        await self._read_model.put_entity(
            event.tenant_id,
            "account",
            event.account_id,
            {
                "account_id": event.account_id,
                "name": c.name,
                "industry": c.industry,
                "owner_id": c.owner_id,
                "created_at": moment(event.occurred_at).isoformat(),
            },
            at,
            keep_existing=True,
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
            DEFAULT_POLICY.with_stall_threshold(timedelta(seconds=event.stall.threshold_seconds))
        except InvalidCommand as exc:
            raise UnprocessableEvent(f"policy of {event.tenant_id}: {exc}") from exc
        await self._read_model.put_entity(
            event.tenant_id, "policy", "process", {"stall_threshold_seconds": event.stall.threshold_seconds}, at
        )


class StallSweeper:
    """Turns due stall deadlines into `stall_deadline_reached` events on the
    opportunity's own topic, so the decision to alert is taken in stream order."""

    def __init__(self, stall_deadlines: DeadlineStore, publisher: EventPublisher, clock: Clock, batch: int = 500) -> None:
        self._stall = stall_deadlines
        self._publisher = publisher
        self._clock = clock
        self._batch = batch

    async def sweep(self) -> int:
        now = await self._clock.now()
        due = await self._stall.claim_due(now, limit=self._batch, lease_seconds=30)
        if not due:
            return 0
        # One produce batch for the whole sweep. A claim is acknowledged only once its
        # expiry event is on the log; one that failed is left to its lease.
        results = await asyncio.gather(*(self._fire(deadline) for deadline in due), return_exceptions=True)
        fired = [deadline.member for deadline, result in zip(due, results) if not isinstance(result, BaseException)]
        for deadline, result in zip(due, results):
            if isinstance(result, BaseException):
                log.error("firing the stall deadline of %s failed: %r", deadline.member, result)
        if fired:
            await self._stall.acknowledge(*fired)
        return len(fired)

    async def _fire(self, deadline: DueDeadline) -> None:
        tenant_id, _, opportunity_id = deadline.member.rpartition("/")
        reached = events.StallDeadlineReached.FromString(deadline.payload)
        event = events.OpportunityEvent(
            tenant_id=tenant_id,
            opportunity_id=opportunity_id,
            actor_id="system",
            occurred_at=reached.deadline,
            stall_deadline_reached=reached,
        )
        await self._publisher.publish(
            OPPORTUNITY,
            event,
            key=deadline.member,
            tenant_id=tenant_id,
            event_time=moment(reached.deadline),
            event_id=deterministic_event_id("stall-deadline", deadline.member, moment(reached.deadline).isoformat()),
        )

"""Applies `actions.opportunity.v1` to the reporting aggregates.

A batch of events is applied with one read (MGET of the opportunities it touches) and
one atomic write (their new states and every counter change, `ReportingStore.apply`),
in topic order per opportunity. The Faust agent hands over what the stream has ready
(up to a few hundred records); replays and the benchmark thousands — the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from dealpulse.actions.v1 import events_pb2 as events
from services.actions.adapters.messages import moment
from services.actions.adapters.read_models import Position
from services.actions.adapters.reporting.store import ReportingStore, Writes
from services.actions.domain.policy import ProcessPolicy
from services.actions.domain.reporting import expectations as domain
from services.actions.domain.reporting.expectations import Change, TrackedOpportunity
from services.actions.domain.templates.model import Stage, Template, TemplateRef

log = logging.getLogger(__name__)

PolicySource = Callable[[str], Awaitable[ProcessPolicy]]
TemplateSource = Callable[[str, TemplateRef], Awaitable[Template]]


class ReportingAggregator:
    def __init__(self, store: ReportingStore, policy_of: PolicySource, template_of: TemplateSource) -> None:
        self._store = store
        self._policy_of = policy_of
        self._template_of = template_of

    async def on_opportunity_event(self, event: events.OpportunityEvent, at: Position) -> None:
        await self.apply_batch([(event, at)])

    async def apply_batch(self, batch: Sequence[tuple[events.OpportunityEvent, Position]]) -> int:
        """Apply events (in topic order per opportunity); returns how many changed anything."""
        by_tenant: dict[str, list[str]] = {}
        for event, _ in batch:
            by_tenant.setdefault(event.tenant_id, []).append(event.opportunity_id)
        states: dict[tuple[str, str], tuple[TrackedOpportunity, Position]] = {}
        policies: dict[str, ProcessPolicy] = {}
        for tenant, ids in by_tenant.items():
            for opp_id, found in (await self._store.tracked(tenant, ids)).items():
                states[(tenant, opp_id)] = found
            policies[tenant] = await self._policy_of(tenant)
        owners_before = {key: found[0].owner_id for key, found in states.items()}
        changes: dict[str, list[Change]] = {}
        touched: set[tuple[str, str]] = set()
        applied = 0
        for event, at in batch:
            key = (event.tenant_id, event.opportunity_id)
            found = states.get(key)
            if found and found[1].covers(at):
                continue  # redelivered: already applied
            outcome = await self._apply(found[0] if found else None, event, policies[event.tenant_id])
            if outcome is None:
                continue
            states[key] = (outcome.state, at)
            touched.add(key)
            changes.setdefault(event.tenant_id, []).extend(outcome.changes)
            applied += 1
        if not touched:
            return 0
        writes = Writes()
        for key in touched:
            state, at = states[key]
            self._store.queue_state(writes, state, at, previous_owner=owners_before.get(key))
        for tenant, tenant_changes in changes.items():
            self._store.queue_changes(writes, tenant, tenant_changes)
        await self._store.apply(writes)
        return applied

    async def _stage(self, tenant: str, template: TemplateRef | None, stage_id: str) -> Stage | None:
        if template is None:
            return None
        # A template the command side accepted but this worker cannot read yet (its
        # tenant copy still on the way) raises, and the agent retries in place.
        return (await self._template_of(tenant, template)).stage(stage_id)

    async def _apply(
        self, state: TrackedOpportunity | None, event: events.OpportunityEvent, policy: ProcessPolicy
    ) -> domain.Applied | None:
        tz = policy.zone
        at = moment(event.occurred_at)
        change = event.WhichOneof("change")
        if change == "opened":
            if state is not None:
                return domain.Applied(state)  # a racing second open lost on the command side
            o = event.opened
            template = TemplateRef(o.template_id, o.template_version) if o.template_id else None
            threshold = timedelta(seconds=event.stall_threshold_seconds) if event.stall_threshold_seconds else policy.stall_threshold_for(o.stage)
            return domain.opened(
                tenant_id=event.tenant_id,
                opportunity_id=event.opportunity_id,
                name=o.name,
                owner_id=o.owner_id,
                amount_cents=o.amount_cents,
                currency=o.currency,
                template=template,
                stage=o.stage,
                stage_spec=await self._stage(event.tenant_id, template, o.stage),
                at=at,
                stall_threshold=threshold,
                tz=tz,
            )
        if state is None:
            return None  # an event of an opportunity opened before this aggregate existed and not replayed
        if change == "stage_changed":
            s = event.stage_changed
            threshold = timedelta(seconds=event.stall_threshold_seconds) if event.stall_threshold_seconds else state.stall_threshold
            return domain.stage_changed(
                state,
                from_stage=s.from_stage,
                to_stage=s.to_stage,
                to_stage_spec=await self._stage(event.tenant_id, state.template, s.to_stage),
                at=at,
                stall_threshold=threshold,
                tz=tz,
            )
        if change == "action_recorded":
            a = event.action_recorded
            return domain.action_recorded(
                state, action_id=a.action_id, template_action_id=a.template_action_id, valid=a.valid, at=at, tz=tz
            )
        # Deadlines, alerts and escalations change no reporting aggregate, but the
        # position still moves so a redelivery is recognised.
        return domain.Applied(state)

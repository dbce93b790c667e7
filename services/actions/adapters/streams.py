"""The actions stream worker: Faust agents that decode each topic's records and hand
them to the projector, and the timer that sweeps due stall deadlines."""

from __future__ import annotations

import asyncio
import logging

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import faust

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import EnvelopeError, decode
from kernel.faust_app import event_process_span, registry_topic, send_dead_letter, sweep_on_timer
from dealpulse.activity.v1 import events_pb2 as activity_events
from kernel.topics import ACCOUNT, ACTIVITY_EVENT, LEAD, OPPORTUNITY, POLICY, PULSE_VISIT_VERDICT, REP, TEMPLATE, TopicSpec
from dealpulse.actions.v1 import leads_pb2
from dealpulse.pulse.v1 import events_pb2 as pulse_events
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.topics import AUDIT_APPROVAL_COMPLETED
from services.actions.adapters.approval_outcomes import ApprovalOutcomes, UnusableCompletion
from services.actions.adapters.projector import ActionsProjector, DeadlineSweeper, UnprocessableEvent
from services.actions.adapters.read_models import Position
from services.actions.adapters.lead_projector import LeadProjector

log = logging.getLogger(__name__)
T = TypeVar("T")

SWEEP_INTERVAL_SECONDS = 0.2
MAX_RETRY_DELAY_SECONDS = 5.0
# A batch closes when it is full or when the window has passed: a lone event waits at
# most the window, a burst is applied BATCH_MAX_EVENTS at a time.
BATCH_MAX_EVENTS = 500
BATCH_WINDOW_SECONDS = 0.02
# Bounds the Redis connections one batch opens.
BATCH_CONCURRENT_ENTITIES = 64


async def _retrying(what: str, attempt) -> None:
    """Retry in place until it succeeds. Skipping would lose a valid event and moving
    on would apply later events of the same entity out of order; a persistent failure
    shows up as consumer lag and this log line, not as silent loss."""
    delay = 0.1
    while True:
        try:
            await attempt()
            return
        except UnprocessableEvent:
            raise
        except Exception:
            log.exception("%s failed; retrying in %.1fs", what, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)


async def _decoded(app: faust.App, spec: TopicSpec, message_type, event):
    """(envelope, payload), or None once a record that cannot be decoded is parked."""
    try:
        envelope, payload = decode(message_type, event.value, event.headers)
        if envelope.tenant_id != payload.tenant_id:
            raise EnvelopeError("ce_tenantid does not match the payload's tenant_id")
    except EnvelopeError as exc:
        await _park(app, spec, event, str(exc))
        return None
    return envelope, payload


async def _apply(app: faust.App, spec: TopicSpec, handle, event, envelope, payload) -> None:
    at = Position(event.message.partition, event.message.offset)
    try:
        await _retrying(f"applying {spec.name}@{at.partition}:{at.offset}", lambda: handle(envelope, payload, at))
    except UnprocessableEvent as exc:
        await _park(app, spec, event, f"cannot apply: {exc}")


async def _apply_traced(app: faust.App, spec: TopicSpec, handle, event, envelope, payload) -> None:
    with event_process_span(event):
        await _apply(app, spec, handle, event, envelope, payload)


def _agent_name(spec: TopicSpec) -> str:
    return f"project_{spec.name.replace('.', '_')}"


def _agent(app: faust.App, spec: TopicSpec, message_type, handle):
    """One agent per topic: decode, dead-letter what cannot be decoded, apply the rest."""

    async def consume(stream):
        async for event in stream.events():
            decoded = await _decoded(app, spec, message_type, event)
            if decoded is not None:
                await _apply(app, spec, handle, event, *decoded)

    consume.__name__ = _agent_name(spec)
    return app.agent(registry_topic(app, spec), name=consume.__name__)(consume)


async def apply_by_entity(
    items: Sequence[T], entity_of: Callable[[T], str], apply: Callable[[T], Awaitable[None]], *, concurrency: int
) -> None:
    """Apply each entity's items one after the other in the given order, and up to
    `concurrency` entities at once; returns when every item is applied."""
    lanes: dict[str, list[T]] = {}
    for item in items:
        lanes.setdefault(entity_of(item), []).append(item)
    running = asyncio.Semaphore(concurrency)

    async def apply_in_order(lane: list[T]) -> None:
        async with running:
            for item in lane:
                await apply(item)

    await asyncio.gather(*(apply_in_order(lane) for lane in lanes.values()))


def _batched_agent(app: faust.App, spec: TopicSpec, message_type, handle, entity_of: Callable[[object], str]):
    """An agent that applies its topic in batches, for a topic whose entities are
    independent of one another (an opportunity's events touch only that opportunity).

    Each entity's events stay in topic order, one after the other; different entities
    of the batch are applied concurrently, so their Redis round trips, transactions
    (fsynced together by Redis) and produced messages (sent in one produce batch, each
    ack awaited before the batch ends) overlap instead of queueing. `take_events` acks
    the batch's records only after this loop body is done with all of them, so no
    offset is committed past a record whose outputs are not yet acknowledged; after a
    crash the whole batch is redelivered and the positions stored with each
    opportunity make the already-applied events no-ops."""

    async def consume(stream):
        async for batch in stream.take_events(BATCH_MAX_EVENTS, within=BATCH_WINDOW_SECONDS):
            decoded = []
            for event in batch:
                found = await _decoded(app, spec, message_type, event)
                if found is not None:
                    decoded.append((event, *found))
            await apply_by_entity(
                decoded,
                lambda item: entity_of(item[2]),
                lambda item: _apply_traced(app, spec, handle, *item),
                concurrency=BATCH_CONCURRENT_ENTITIES,
            )

    consume.__name__ = _agent_name(spec)
    return app.agent(registry_topic(app, spec), name=consume.__name__)(consume)


def install_approval_outcomes(app: faust.App, outcomes: ApprovalOutcomes) -> None:
    """Apply what completed audit approvals decided (approval_outcomes.py)."""

    async def handle(envelope, completed, at: Position) -> None:
        try:
            await outcomes.on_completed(envelope, completed, at)
        except UnusableCompletion as exc:
            raise UnprocessableEvent(str(exc)) from exc

    _agent(app, AUDIT_APPROVAL_COMPLETED, audit_events.ApprovalCompleted, handle)


async def _park(app: faust.App, spec: TopicSpec, event, reason: str) -> None:
    log.warning("dead-lettering %s@%d: %s", spec.name, event.message.offset, reason)
    await _retrying(f"dead-lettering {spec.name}@{event.message.offset}", lambda: send_dead_letter(app, spec, event, reason))


def install(
    app: faust.App,
    projector: ActionsProjector,
    *sweepers: DeadlineSweeper,
    activity_handlers: Sequence[Callable[[activity_events.ActivityEvent, Position], Awaitable[None]]] = (),
) -> None:
    _batched_agent(
        app,
        OPPORTUNITY,
        events.OpportunityEvent,
        projector.on_opportunity_event,
        lambda opportunity: f"{opportunity.tenant_id}/{opportunity.opportunity_id}",
    )
    _agent(app, ACCOUNT, events.AccountEvent, projector.on_account_event)
    _agent(app, REP, events.RepEvent, lambda env, p, at: projector.on_rep_event(p, at))
    _agent(app, POLICY, events.TenantPolicyEvent, lambda env, p, at: projector.on_policy_event(p, at))
    _agent(app, TEMPLATE, events.TemplatePublished, lambda env, p, at: projector.on_template_event(p, at))

    async def on_activity(env, activity, at) -> None:
        # Each handler is idempotent, so a retry after a partial failure re-runs them all.
        for handle in (projector.on_activity_event, *activity_handlers):
            await handle(activity, at)

    _agent(app, ACTIVITY_EVENT, activity_events.ActivityEvent, on_activity)

    sweep_on_timer(app, "sweep_deadlines", [sweeper.sweep for sweeper in sweepers], SWEEP_INTERVAL_SECONDS)


def install_leads(app: faust.App, leads: LeadProjector) -> None:
    """The lead stream and pulse's visit verdicts (an effective visit answers a lead)."""
    _agent(app, LEAD, leads_pb2.LeadEvent, leads.on_lead_event)
    _agent(app, PULSE_VISIT_VERDICT, pulse_events.VisitVerdict, lambda env, p, at: leads.on_visit_verdict(p, at))

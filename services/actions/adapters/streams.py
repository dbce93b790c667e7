"""The actions stream worker: Faust agents that decode each topic's records and hand
them to the projector, and the timer that sweeps due stall deadlines."""

from __future__ import annotations

import asyncio
import logging

from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack

import faust
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import EnvelopeError, decode
from kernel.faust_app import event_process_span, registry_topic, send_dead_letter, sweep_on_timer
from kernel.kafka import BatchPublisher
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

# Half of it is the mean wait of a due deadline before it is claimed (a tenth of the
# 1 s alert budget); a sweep with nothing due is two Redis round trips per store.
SWEEP_INTERVAL_SECONDS = 0.1
MAX_RETRY_DELAY_SECONDS = 5.0
# At most this many opportunity events are applied as one batch, and at most
# MAX_TAKEN_EVENTS taken from the stream and not yet applied.
BATCH_MAX_EVENTS = 500
MAX_TAKEN_EVENTS = 2 * BATCH_MAX_EVENTS
# Record batch size of the worker's producer: 500 alerts and their to-dos of one
# partition fit in one or two batches, so a burst is a few produce requests.
PRODUCER_MAX_BATCH_BYTES = 512 * 1024


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


def _tracing() -> bool:
    """True when spans are recorded (an SDK is installed: kernel.telemetry.setup_tracing).
    Opening a non-recording span per event still costs ~50 us (header parsing, context
    switches), a quarter of what the projector spends on a stall alert in a burst."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


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


def _opportunity_agent(app: faust.App, projector: ActionsProjector):
    """Applies the opportunity topic in batches (`ActionsProjector.on_opportunity_batch`:
    one read, one publish of all outputs, one transaction), taking the next records
    from the stream while a batch is being applied: a lone record is applied at once,
    and in a burst each batch holds what arrived while the previous one was applied.

    Acks are manual: a record is acked only once its batch is applied, i.e. after every
    output of the batch is acknowledged, so no offset is committed past a record whose
    outputs are not; after a crash the unacked records are redelivered and the
    positions stored with each opportunity make the already-applied events no-ops."""

    async def consume(stream):
        manual = stream.noack()
        taken: asyncio.Queue = asyncio.Queue(maxsize=MAX_TAKEN_EVENTS)

        async def apply_taken() -> None:
            while True:
                batch = [await taken.get()]
                while not taken.empty() and len(batch) < BATCH_MAX_EVENTS:
                    batch.append(taken.get_nowait())
                await _apply_opportunity_batch(app, projector, batch)
                for event in batch:
                    await manual.ack(event)

        applying = asyncio.ensure_future(apply_taken())
        try:
            async for event in manual.events():
                await taken.put(event)
                if applying.done():
                    applying.result()  # it only ends by failing: fail the agent with it
        finally:
            applying.cancel()

    consume.__name__ = _agent_name(OPPORTUNITY)
    return app.agent(registry_topic(app, OPPORTUNITY), name=consume.__name__)(consume)


async def _apply_opportunity_batch(app: faust.App, projector: ActionsProjector, batch) -> None:
    """Decode and apply a batch; what cannot be decoded or applied is parked, and a
    failure other than that retries the whole batch (an event parked on the first
    attempt is not offered again)."""
    spec = OPPORTUNITY
    items, records = [], {}
    for event in batch:
        found = await _decoded(app, spec, events.OpportunityEvent, event)
        if found is not None:
            at = Position(event.message.partition, event.message.offset)
            items.append((*found, at))
            records[at] = event
    parked: set[Position] = set()

    async def reject(at: Position, problem: UnprocessableEvent) -> None:
        await _park(app, spec, records[at], f"cannot apply: {problem}")
        parked.add(at)

    async def attempt() -> None:
        await projector.on_opportunity_batch([item for item in items if item[2] not in parked], reject)

    with ExitStack() as spans:
        if _tracing():
            for event in records.values():
                spans.enter_context(event_process_span(event))
        await _retrying(f"applying {len(items)} records of {spec.name}", attempt)


def batch_publisher(app: faust.App, source: str) -> BatchPublisher:
    """A `BatchPublisher` on the worker's own Faust producer (acks=all, as
    `create_faust_app` configures it), whose record batches hold a whole burst's
    records per partition instead of aiokafka's default 16 KiB."""
    app.conf.producer_max_batch_size = PRODUCER_MAX_BATCH_BYTES
    # Faust creates its aiokafka producer when the app starts.
    return BatchPublisher.late_bound(lambda: app.producer._ensure_producer(), source)


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
    _opportunity_agent(app, projector)
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

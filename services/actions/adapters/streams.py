"""The actions stream worker: Faust agents that decode each topic's records and hand
them to the projector, the batch consumer of the opportunity topic (the stall alerts'
hot path), and the timer that sweeps due stall deadlines."""

from __future__ import annotations

import logging

from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack

import faust
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import EnvelopeError, decode
from kernel.batch_consumer import BatchConsumer
from kernel.faust_app import add_readiness_check, event_process_span, registry_topic, send_dead_letter_record, sweep_on_timer
from kernel.kafka import BatchPublisher
from kernel.retry import retry_in_place
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
# The opportunity projection's consumer group (`install_opportunity_projection`), and
# at most this many opportunity events applied as one batch.
PROJECTOR_GROUP = "dealpulse-actions-projector"
BATCH_MAX_EVENTS = 500
# One fetch request is in flight at a time: one sent for partitions already drained
# waits this long on the broker while the other partitions' records of a burst, once
# applied, wait for it (up to aiokafka's default 500 ms between two batches). 50 idle
# fetches a second cost far less than that wait.
FETCH_MAX_WAIT_MS = 20
# Record batch size of the worker's producer: 500 alerts and their to-dos of one
# partition fit in one or two batches, so a burst is a few produce requests.
PRODUCER_MAX_BATCH_BYTES = 512 * 1024


async def _retrying(what: str, attempt) -> None:
    await retry_in_place(what, attempt, unretryable=(UnprocessableEvent,))


async def _decoded(app: faust.App, spec: TopicSpec, message_type, record):
    """(envelope, payload) of a record (a Faust event's message or a `ConsumerRecord`),
    or None once a record that cannot be decoded is parked."""
    try:
        envelope, payload = decode(message_type, record.value, record.headers)
        if envelope.tenant_id != payload.tenant_id:
            raise EnvelopeError("ce_tenantid does not match the payload's tenant_id")
    except EnvelopeError as exc:
        await _park(app, spec, record, str(exc))
        return None
    return envelope, payload


async def _apply(app: faust.App, spec: TopicSpec, handle, event, envelope, payload) -> None:
    at = Position(event.message.partition, event.message.offset)
    try:
        await _retrying(f"applying {spec.name}@{at.partition}:{at.offset}", lambda: handle(envelope, payload, at))
    except UnprocessableEvent as exc:
        await _park(app, spec, event.message, f"cannot apply: {exc}")


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
            decoded = await _decoded(app, spec, message_type, event.message)
            if decoded is not None:
                await _apply(app, spec, handle, event, *decoded)

    consume.__name__ = _agent_name(spec)
    return app.agent(registry_topic(app, spec), name=consume.__name__)(consume)


def install_opportunity_projection(app: faust.App, projector: ActionsProjector, bootstrap: str) -> BatchConsumer:
    """Applies the opportunity topic in batches (`ActionsProjector.on_opportunity_batch`:
    one read, one publish of all outputs, one transaction) read by a `BatchConsumer`
    beside the Faust app, in the group `PROJECTOR_GROUP`: Faust's per-event delivery
    cost more CPU than applying the event and kept a burst's batches small.

    A batch's offsets are committed only once it is applied, i.e. after every output
    is acknowledged and the transaction written; after a crash the uncommitted records
    are redelivered and the positions stored with each opportunity make the
    already-applied events no-ops. The group starts where the Faust group (the app's
    id), which ran this projection before, left off."""

    async def apply(records: list[ConsumerRecord]) -> None:
        await _apply_opportunity_batch(app, projector, records)

    consumer = BatchConsumer(
        bootstrap,
        PROJECTOR_GROUP,
        [OPPORTUNITY.name],
        apply,
        max_records=BATCH_MAX_EVENTS,
        client_id="actions-projector",
        seed_group=app.conf.id,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )
    add_readiness_check(app, lambda: consumer.ready)

    @app.task
    async def project_opportunities() -> None:
        await consumer.start()
        try:
            await consumer.run()
        finally:
            await consumer.stop()

    return consumer


async def _apply_opportunity_batch(app: faust.App, projector: ActionsProjector, records: list[ConsumerRecord]) -> None:
    """Decode and apply a batch; what cannot be decoded or applied is parked, and a
    failure other than that retries the whole batch (a record parked on the first
    attempt is not offered again)."""
    spec = OPPORTUNITY
    items, by_position = [], {}
    for record in records:
        found = await _decoded(app, spec, events.OpportunityEvent, record)
        if found is not None:
            at = Position(record.partition, record.offset)
            items.append((*found, at))
            by_position[at] = record
    parked: set[Position] = set()

    async def reject(at: Position, problem: UnprocessableEvent) -> None:
        await _park(app, spec, by_position[at], f"cannot apply: {problem}")
        parked.add(at)

    async def attempt() -> None:
        await projector.on_opportunity_batch([item for item in items if item[2] not in parked], reject)

    with ExitStack() as spans:
        if _tracing():
            for r in by_position.values():
                spans.enter_context(event_process_span(r.topic, r.partition, r.offset, r.headers))
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


async def _park(app: faust.App, spec: TopicSpec, record, reason: str) -> None:
    where = f"{spec.name}@{record.partition}:{record.offset}"
    log.warning("dead-lettering %s: %s", where, reason)
    await _retrying(f"dead-lettering {where}", lambda: send_dead_letter_record(app, spec, record, reason))


def install(
    app: faust.App,
    projector: ActionsProjector,
    *sweepers: DeadlineSweeper,
    activity_handlers: Sequence[Callable[[activity_events.ActivityEvent, Position], Awaitable[None]]] = (),
) -> None:
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

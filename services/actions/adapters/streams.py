"""The actions stream worker: Faust agents that decode each topic's records and hand
them to the projector, and the timer that sweeps due stall deadlines."""

from __future__ import annotations

import asyncio
import logging

import faust

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import EnvelopeError, decode
from kernel.faust_app import registry_topic, send_dead_letter
from kernel.topics import ACCOUNT, OPPORTUNITY, POLICY, REP, TopicSpec
from services.actions.adapters.projector import ActionsProjector, StallSweeper, UnprocessableEvent
from services.actions.adapters.read_models import Position

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 0.2
MAX_RETRY_DELAY_SECONDS = 5.0


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


def _agent(app: faust.App, spec: TopicSpec, message_type, handle):
    """One agent per topic: decode, dead-letter what cannot be decoded, apply the rest."""

    async def consume(stream):
        async for event in stream.events():
            try:
                envelope, payload = decode(message_type, event.value, event.headers)
                if envelope.tenant_id != payload.tenant_id:
                    raise EnvelopeError("ce_tenantid does not match the payload's tenant_id")
            except EnvelopeError as exc:
                await _park(app, spec, event, str(exc))
                continue
            at = Position(event.message.partition, event.message.offset)
            try:
                await _retrying(f"applying {spec.name}@{at.partition}:{at.offset}", lambda: handle(envelope, payload, at))
            except UnprocessableEvent as exc:
                await _park(app, spec, event, f"cannot apply: {exc}")

    consume.__name__ = f"project_{spec.name.replace('.', '_')}"
    return app.agent(registry_topic(app, spec), name=consume.__name__)(consume)


async def _park(app: faust.App, spec: TopicSpec, event, reason: str) -> None:
    log.warning("dead-lettering %s@%d: %s", spec.name, event.message.offset, reason)
    await _retrying(f"dead-lettering {spec.name}@{event.message.offset}", lambda: send_dead_letter(app, spec, event, reason))


def install(app: faust.App, projector: ActionsProjector, sweeper: StallSweeper) -> None:
    _agent(app, OPPORTUNITY, events.OpportunityEvent, projector.on_opportunity_event)
    _agent(app, ACCOUNT, events.AccountEvent, lambda env, p, at: projector.on_account_event(p, at))
    _agent(app, REP, events.RepEvent, lambda env, p, at: projector.on_rep_event(p, at))
    _agent(app, POLICY, events.TenantPolicyEvent, lambda env, p, at: projector.on_policy_event(p, at))

    @app.timer(interval=SWEEP_INTERVAL_SECONDS)
    async def sweep_stall_deadlines() -> None:
        # Every worker sweeps; the atomic claim in Redis hands each deadline to one.
        # An exception escaping a Faust timer crashes the whole worker, so a sweep
        # that fails (Redis or the broker away) is logged and retried next tick;
        # claimed deadlines it did not fire come back when their lease runs out.
        try:
            fired = await sweeper.sweep()
        except Exception:
            log.exception("sweeping stall deadlines failed; retrying in %.1fs", SWEEP_INTERVAL_SECONDS)
            return
        if fired:
            log.info("stall deadlines fired: %d", fired)

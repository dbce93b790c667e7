"""The actions stream worker: Faust agents that decode each topic's records and hand
them to the projector, and the timer that sweeps due stall deadlines."""

from __future__ import annotations

import asyncio
import logging

import faust
from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import EnvelopeError, decode
from kernel.faust_app import registry_topic, send_dead_letter
from kernel.topics import ACCOUNT, OPPORTUNITY, POLICY, REP, TopicSpec
from services.actions.adapters.projector import ActionsProjector, StallSweeper
from services.actions.adapters.read_models import Position

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 0.2
MAX_RETRY_DELAY_SECONDS = 5.0
# Failures that pass by themselves: the store or the broker is restarting.
TRANSIENT_ERRORS = (RedisConnectionError, RedisTimeoutError, KafkaError, OSError, asyncio.TimeoutError)


async def _until_applied(handle, envelope, payload, at: Position) -> None:
    """Retry in place while Redis or the broker is away: skipping would lose the event,
    and moving on would apply later events of the same entity out of order. Anything
    else is a bug or a bad record; retrying it would stall every tenant, so it goes to
    the dead-letter topic."""
    delay = 0.1
    while True:
        try:
            await handle(envelope, payload, at)
            return
        except TRANSIENT_ERRORS:
            log.exception("applying %s at %s failed; retrying in %.1fs", envelope.event_id, at, delay)
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
                log.warning("dead-lettering %s@%d: %s", spec.name, event.message.offset, exc)
                await send_dead_letter(app, spec, event, str(exc))
                continue
            try:
                await _until_applied(handle, envelope, payload, Position(event.message.partition, event.message.offset))
            except Exception as exc:
                log.exception("dead-lettering %s@%d: cannot apply it", spec.name, event.message.offset)
                await send_dead_letter(app, spec, event, f"cannot apply: {type(exc).__name__}: {exc}")

    consume.__name__ = f"project_{spec.name.replace('.', '_')}"
    return app.agent(registry_topic(app, spec), name=consume.__name__)(consume)


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

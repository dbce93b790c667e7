"""The agents and timers of the actions reporting worker (`python -m services.actions
reporting`, a process of its own so that a slow report never holds up the stall breaker):

- `report_actions_opportunity_v1`: applies `actions.opportunity.v1` to the reporting
  aggregates;
- `report_actions_rep_v1`: keeps the rep directory (who is in which team);
- a timer that makes what is due (the morning must-do lists, Monday's report);
- a timer that drains the notification outbox.

Records that cannot be decoded are skipped here: the actions worker's projector, which
reads the same topic, already parks them on the dead-letter topic, once.
"""

from __future__ import annotations

import logging

import faust

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import EnvelopeError, decode
from kernel.faust_app import registry_topic
from kernel.notifications import ChannelSenders, RedisOutbox
from kernel.retry import retry_in_place
from kernel.topics import OPPORTUNITY, REP
from services.actions.adapters.read_models import Position
from services.actions.adapters.reporting.aggregator import ReportingAggregator
from services.actions.adapters.reporting.service import ReportingService
from services.actions.adapters.reporting.store import ReportingStore

log = logging.getLogger(__name__)

SCHEDULE_INTERVAL_SECONDS = 5.0
DELIVERY_INTERVAL_SECONDS = 0.5
# Reports are not latency-bound: a burst is applied up to this many records per batch,
# a lone record waits at most the window.
BATCH_MAX_EVENTS = 500
BATCH_WINDOW_SECONDS = 0.1


def install(
    app: faust.App,
    aggregator: ReportingAggregator,
    store: ReportingStore,
    service: ReportingService,
    outbox: RedisOutbox,
    senders: ChannelSenders,
) -> None:
    @app.agent(registry_topic(app, OPPORTUNITY), name="report_actions_opportunity_v1")
    async def report_opportunities(stream):
        # A batch at a time, one Redis transaction each: `take_events` acks the records
        # only once the loop body is done with their batch.
        async for records in stream.take_events(BATCH_MAX_EVENTS, within=BATCH_WINDOW_SECONDS):
            batch = []
            for event in records:
                try:
                    envelope, payload = decode(events.OpportunityEvent, event.value, event.headers)
                    if envelope.tenant_id != payload.tenant_id:
                        raise EnvelopeError("ce_tenantid does not match the payload's tenant_id")
                except EnvelopeError:
                    continue
                batch.append((payload, Position(event.message.partition, event.message.offset)))
            if batch:
                first, last = batch[0][1], batch[-1][1]
                await retry_in_place(
                    f"reporting {len(batch)} records of {OPPORTUNITY.name} from {first.partition}:{first.offset}"
                    f" to {last.partition}:{last.offset}",
                    lambda: aggregator.apply_batch(batch),
                )

    @app.agent(registry_topic(app, REP), name="report_actions_rep_v1")
    async def report_reps(stream):
        async for event in stream.events():
            try:
                _, payload = decode(events.RepEvent, event.value, event.headers)
            except EnvelopeError:
                continue
            if not payload.HasField("registered"):
                continue
            r = payload.registered
            await retry_in_place(
                f"reporting rep {payload.rep_id}",
                lambda: store.put_rep(payload.tenant_id, payload.rep_id, r.display_name, r.manager_id),
            )

    @app.timer(interval=SCHEDULE_INTERVAL_SECONDS)
    async def run_due_reports() -> None:
        # An exception escaping a Faust timer stops the worker: log, try next tick.
        try:
            for run in await service.tick():
                log.info("report run done: %s", run)
        except Exception:
            log.exception("a scheduled report run failed; retrying in %.0fs", SCHEDULE_INTERVAL_SECONDS)

    @app.timer(interval=DELIVERY_INTERVAL_SECONDS)
    async def deliver_notifications() -> None:
        try:
            while await outbox.deliver_once(senders):
                pass
        except Exception:
            log.exception("delivering notifications failed; retrying in %.1fs", DELIVERY_INTERVAL_SECONDS)

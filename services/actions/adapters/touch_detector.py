"""Duplicate-touch detection over the activity stream (services/actions/domain/
duplicate_touches.py decides).

The activity topic is keyed by rep, so one customer's touches arrive on several
partitions, possibly in several workers at once. Each customer's record is therefore
updated with an optimistic transaction (WATCH, retried on conflict), and remembers the
last offset applied per partition, so a redelivered activity changes nothing.

The alert is stored and put in an outbox (a deadline due at once) in that same
transaction, and the outbox sweeper publishes it: an alert is published only for a
decision that was committed, and published at least once even if the worker dies right
after committing. Its id comes from the touch that completed the group, so consumers
de-duplicate a republished one.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from redis.exceptions import WatchError

from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.activity.v1 import events_pb2 as activity_events
from kernel.clock import Clock
from kernel.deadlines import DeadlineStore, DueDeadline
from kernel.kafka import EventPublisher
from kernel.topics import ALERT_RAISED
from services.actions.adapters.lead_store import LeadStore
from services.actions.adapters.messages import timestamp
from services.actions.adapters.projector import DeadlineSweeper
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain.duplicate_touches import (
    AlertedPeriod,
    CustomerTouches,
    DuplicateTouchAlert,
    Touch,
    customer_key,
    touched,
)

log = logging.getLogger(__name__)

TOUCH_ALERT_OUTBOX = "actions.touch_alerts"
_DUE_AT_ONCE = datetime.fromtimestamp(0, timezone.utc)


def touch_kind(event: activity_events.ActivityEvent) -> str:
    """How the rep reached the customer, or "" when the activity is no contact (a call
    that did not connect, an email the customer wrote, a note)."""
    kind = event.WhichOneof("activity")
    if kind == "call":
        return "call" if event.call.duration_seconds > 0 else ""
    if kind == "email":
        return "email" if event.email.direction == activity_events.EMAIL_DIRECTION_OUTBOUND else ""
    if kind == "external_contact":
        return "wecom_contact" if event.external_contact.change == activity_events.EXTERNAL_CONTACT_CHANGE_ADDED else ""
    return kind if kind in ("check_in", "visit") else ""


def _record_json(record: CustomerTouches, applied: dict[int, int]) -> str:
    return json.dumps(
        {
            "touches": [[t.activity_id, t.rep_id, t.at.isoformat(), t.kind] for t in record.touches],
            "alerted": [[p.start.isoformat(), p.end.isoformat(), p.alert_id] for p in record.alerted],
            "applied": {str(partition): offset for partition, offset in applied.items()},
        }
    )


def _record(tenant: str, customer: str, raw: bytes | None) -> tuple[CustomerTouches, dict[int, int]]:
    if not raw:
        return CustomerTouches(tenant, customer), {}
    data = json.loads(raw)
    touches = tuple(Touch(a, r, datetime.fromisoformat(at), k) for a, r, at, k in data["touches"])
    alerted = tuple(
        AlertedPeriod(datetime.fromisoformat(s), datetime.fromisoformat(e), i) for s, e, i in data["alerted"]
    )
    applied = {int(p): o for p, o in data["applied"].items()}
    return CustomerTouches(tenant, customer, touches, alerted), applied


class DuplicateTouchDetector:
    def __init__(self, read_model: ActionsReadModel, leads: LeadStore, outbox: DeadlineStore) -> None:
        self._read_model = read_model
        self._leads = leads
        self._outbox = outbox

    async def on_activity_event(self, event: activity_events.ActivityEvent, at: Position) -> None:
        kind = touch_kind(event)
        if not kind or not event.rep_id or not event.activity_id:
            return
        tenant = event.tenant_id
        account_id, lead = event.customer_id, None
        if event.lead_id:
            found = await self._leads.lead(tenant, event.lead_id)
            lead = found[0] if found else None
            account_id = account_id or (lead.account_id if lead else "")
        customer = customer_key(account_id, event.lead_id)
        if not customer:
            return
        policy = await self._read_model.policy(tenant)
        touch = Touch(event.activity_id, event.rep_id, event.occurred_at.ToDatetime(tzinfo=timezone.utc), kind)
        key = self._read_model.key(tenant, "touches", customer)
        while True:
            async with self._read_model.redis.pipeline(transaction=True) as tx:
                try:
                    await tx.watch(key)
                    record, applied = _record(tenant, customer, await tx.get(key))
                    if applied.get(at.partition, -1) >= at.offset:
                        return  # redelivered after a crash: already applied
                    outcome = touched(record, touch, policy.duplicate_touch_window, policy.duplicate_touch_min_reps)
                    alert = (
                        await self._alert(outcome.alert, account_id, event.lead_id, lead.owner_id if lead else "")
                        if outcome.alert
                        else None
                    )
                    tx.multi()
                    tx.set(key, _record_json(outcome.record, {**applied, at.partition: at.offset}))
                    if alert is not None:
                        self._read_model.queue_message(tx, tenant, "alerts", alert.alert_id, alert)
                        self._outbox.queue_arm(tx, f"{tenant}/{alert.alert_id}", _DUE_AT_ONCE, alert.SerializeToString())
                    await tx.execute()
                    return
                except WatchError:
                    continue  # another worker changed this customer meanwhile: decide again

    async def _alert(self, found: DuplicateTouchAlert, account_id: str, lead_id: str, lead_owner: str) -> events.AlertRaised:
        """The alert goes to the customer's owner (the account's, else the lead's) and
        their manager; managers see every alert of their tenant anyway."""
        owner = lead_owner
        if account_id:
            account = await self._read_model.entity(found.tenant_id, "account", account_id)
            owner = account[0].get("owner_id", "") if account else owner
        rep = await self._read_model.entity(found.tenant_id, "rep", owner) if owner else None
        days = found.window.total_seconds() / 86400
        return events.AlertRaised(
            tenant_id=found.tenant_id,
            alert_id=found.alert_id,
            kind=events.ALERT_KIND_DUPLICATE_TOUCH,
            account_id=account_id,
            lead_id=lead_id if not account_id else "",
            owner_id=owner,
            manager_id=rep[0].get("manager_id", "") if rep else "",
            raised_at=timestamp(found.raised_at),
            message=f"{found.customer} was contacted by {len(found.reps)} reps ({', '.join(found.reps)}) "
            f"within {days:g} days",
            escalation_level=events.ESCALATION_LEVEL_MANAGER,
            status=events.ALERT_STATUS_OPEN,
            touches=[
                events.CustomerTouch(activity_id=t.activity_id, rep_id=t.rep_id, occurred_at=timestamp(t.at), kind=t.kind)
                for t in found.touches
            ],
        )


def TouchAlertSweeper(outbox: DeadlineStore, publisher: EventPublisher, clock: Clock, batch: int = 500) -> DeadlineSweeper:
    async def fire(due: DueDeadline) -> None:
        alert = events.AlertRaised.FromString(due.payload)
        customer = f"account:{alert.account_id}" if alert.account_id else f"lead:{alert.lead_id}"
        await publisher.publish(
            ALERT_RAISED,
            alert,
            key=f"{alert.tenant_id}/customer:{customer}",
            tenant_id=alert.tenant_id,
            event_time=alert.raised_at.ToDatetime(tzinfo=timezone.utc),
            event_id=alert.alert_id,
        )

    return DeadlineSweeper(outbox, clock, fire, what="duplicate-touch alert", batch=batch)

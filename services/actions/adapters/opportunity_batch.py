"""What applying a batch of opportunity events reads and writes, gathered so the
batch costs a few Redis commands instead of about ten per event.

`BatchReads` holds the reps and stored alerts the batch's effects look up, fetched
together, and the alerts the batch itself raises or changes, so a later event of the
same opportunity sees its own earlier results. `BatchWrites` collects every change of
the batch and queues them into one transaction (a single script call): each
opportunity's last state (at the position of its last event), each timer's last
change, each stored message's last version, in the order the events were applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from google.protobuf.message import Message

from dealpulse.actions.v1 import events_pb2 as events
from kernel.deadlines import DeadlineStore
from kernel.redis_writes import PackedTransaction
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain.accounts import WON_STAGE
from services.actions.domain.opportunity import OpportunityState, RecordedAction


class BatchReads:
    """Managers of reps and stored alerts, for one batch."""

    def __init__(self, read_model: ActionsReadModel) -> None:
        self._read_model = read_model
        self._managers: dict[tuple[str, str], str] = {}
        self._alerts: dict[tuple[str, str], events.AlertRaised | None] = {}

    async def prefetch(self, reps: Iterable[tuple[str, str]], alerts: Iterable[tuple[str, str]]) -> None:
        """Load (tenant, rep id) managers and (tenant, alert id) alerts in one round trip."""
        reps = [r for r in set(reps) if r[1] and r not in self._managers]
        alerts = [a for a in set(alerts) if a not in self._alerts]
        managers, found = await self._read_model.managers_and_alerts(reps, alerts)
        self._managers.update(managers)
        self._alerts.update(found)

    async def manager_of(self, tenant: str, person_id: str) -> str:
        if not person_id:
            return ""
        if (tenant, person_id) not in self._managers:
            await self.prefetch([(tenant, person_id)], ())
        return self._managers[(tenant, person_id)]

    async def alert(self, tenant: str, alert_id: str) -> events.AlertRaised | None:
        """A copy of the alert's latest version (changing it changes nothing stored)."""
        if (tenant, alert_id) not in self._alerts:
            await self.prefetch((), [(tenant, alert_id)])
        found = self._alerts[(tenant, alert_id)]
        if found is None:
            return None
        copy = events.AlertRaised()
        copy.CopyFrom(found)
        return copy

    def remember(self, alert: events.AlertRaised) -> None:
        """The batch raised or changed this alert: later lookups see this version."""
        self._alerts[(alert.tenant_id, alert.alert_id)] = alert


class BatchWrites:
    """Every change of one batch, queued into a single transaction by `queue`."""

    def __init__(self, read_model: ActionsReadModel) -> None:
        self._read_model = read_model
        self._states: dict[str, tuple[OpportunityState, Position]] = {}
        self._won: dict[str, OpportunityState] = {}
        self._actions: list[tuple[OpportunityState, RecordedAction]] = []
        # id(store) -> (store, member -> (deadline, payload) to arm, or None to disarm)
        self._timers: dict[int, tuple[DeadlineStore, dict[str, tuple[datetime, bytes] | None]]] = {}
        self._messages: dict[tuple[str, str], dict[str, bytes]] = {}

    def opportunity(self, state: OpportunityState, at: Position) -> None:
        self._states[state.key] = (state, at)
        if state.stage == WON_STAGE:
            self._won[state.key] = state

    def action(self, state: OpportunityState, action: RecordedAction) -> None:
        self._actions.append((state, action))

    def arm(self, store: DeadlineStore, member: str, deadline: datetime, payload: bytes) -> None:
        self._timer_changes(store)[member] = (deadline, payload)

    def disarm(self, store: DeadlineStore, member: str) -> None:
        self._timer_changes(store)[member] = None

    def message(self, tenant: str, kind: str, message_id: str, message: Message) -> None:
        self._messages.setdefault((tenant, kind), {})[message_id] = message.SerializeToString()

    def _timer_changes(self, store: DeadlineStore) -> dict[str, tuple[datetime, bytes] | None]:
        return self._timers.setdefault(id(store), (store, {}))[1]

    def queue(self, tx: PackedTransaction) -> None:
        read_model = self._read_model
        if self._states:
            read_model.queue_opportunities(tx, self._states.values())
        for state in self._won.values():
            read_model.queue_customer_won(tx, state)
        for state, action in self._actions:
            read_model.queue_action(tx, state, action)
        for store, changes in self._timers.values():
            arms = {member: change for member, change in changes.items() if change is not None}
            store.queue_changes(tx, arms, (member for member, change in changes.items() if change is None))
        for (tenant, kind), messages in self._messages.items():
            read_model.queue_messages(tx, tenant, kind, messages)

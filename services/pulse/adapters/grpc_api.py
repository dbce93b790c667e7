"""`PulseService`: the health board and the drill-down, for the caller's tenant only."""

from __future__ import annotations

from datetime import date

import grpc

from dealpulse.pulse.v1 import pulse_service_pb2 as api
from dealpulse.pulse.v1 import pulse_service_pb2_grpc
from kernel.clock import Clock
from kernel.grpc_server import current_principal
from services.pulse.adapters import messages
from services.pulse.adapters.replica import PulseReplica
from services.pulse.domain.indicators import worst

# Who sees whose numbers: reps their own row, managers and above the whole tenant.
TEAM_ROLES = ("manager", "director", "admin")


class PulseApi(pulse_service_pb2_grpc.PulseServiceServicer):
    def __init__(self, replica: PulseReplica, clock: Clock) -> None:
        self._replica = replica
        self._clock = clock

    async def _day(self, text: str, tenant_id: str, context) -> date:
        if not text:
            now = await self._clock.now()
            return now.astimezone(self._replica.book.tenant(tenant_id).tz).date()
        try:
            return date.fromisoformat(text)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"day {text!r} is not YYYY-MM-DD")

    def _team(self, tenant_id: str, manager_id: str) -> list[str]:
        roster = self._replica.mapper.roster.get(tenant_id, {})
        if not manager_id:
            return sorted(set(roster) | set(self._replica.book.reps_seen(tenant_id)))
        members: set[str] = set()
        frontier = {manager_id}
        while frontier:  # everyone reporting to the manager, directly or not
            reports = {rep for rep, manager in roster.items() if manager in frontier and rep not in members}
            members |= reports
            frontier = reports
        return sorted(members)

    def _visible_reps(self, tenant_id: str, manager_id: str) -> list[str]:
        principal = current_principal()
        if principal.has_any(*TEAM_ROLES):
            return self._team(tenant_id, manager_id)
        return [principal.subject]

    async def GetHealthBoard(self, request: api.GetHealthBoardRequest, context) -> api.GetHealthBoardResponse:
        tenant_id = current_principal().tenant
        day = await self._day(request.day, tenant_id, context)
        reps = self._visible_reps(tenant_id, request.manager_id)
        board = self._replica.book.board(tenant_id, day, reps)
        response = api.GetHealthBoardResponse(
            tenant_id=tenant_id,
            day=day.isoformat(),
            team=[messages.indicator_value(i) for i in board.team],
            reps=[
                api.RepBoard(
                    rep_id=rep,
                    indicators=[messages.indicator_value(i) for i in indicators],
                    state=messages.STATES[worst(i.state for i in indicators)],
                )
                for rep, indicators in board.reps.items()
            ],
            incomplete_customers=[
                api.CustomerGaps(customer_id=c, missing_fields=list(m))
                for c, m in board.pulse.customer_data.incomplete_customers().items()
            ],
        )
        pulse = board.pulse
        late = sorted(
            {*pulse.visits.too_late, *pulse.lead_response.too_late, *pulse.stage_progression.too_late, *pulse.forecast.too_late},
            key=lambda e: (e.at, e.event_id),
        )
        response.too_late.extend(messages.late_event(e) for e in late)
        latest = self._replica.book.latest_event_time(tenant_id)
        if latest is not None:
            response.watermark.FromDatetime(latest)
        return response

    async def GetDrillDown(self, request: api.GetDrillDownRequest, context) -> api.GetDrillDownResponse:
        principal = current_principal()
        tenant_id = principal.tenant
        name = messages.INDICATOR_NAMES.get(request.indicator)
        if name is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "indicator is required")
        if not principal.has_any(*TEAM_ROLES) and request.rep_id != principal.subject:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "reps see their own numbers only")
        if name == messages.book.EFFECTIVE_VISITS and not request.rep_id and not principal.has_any(*TEAM_ROLES):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "reps see their own numbers only")
        day = await self._day(request.day, tenant_id, context)
        roster = self._team(tenant_id, "")
        indicator = self._replica.book.indicator(tenant_id, name, day, request.rep_id or None, roster)
        value = messages.indicator_value(indicator)
        ids = list(dict.fromkeys(event_id for row in value.rows for event_id in row.event_ids))
        refs = [self._replica.sources[i] for i in ids if i in self._replica.sources]
        payloads = await self._replica.payloads(refs)
        events = []
        for ref in sorted(refs, key=lambda r: (r.at, r.event_id)):
            event = api.SourceEvent(
                event_id=ref.event_id, kind=ref.kind, rep_id=ref.rep_id, topic=ref.topic,
                partition=ref.partition, offset=ref.offset,
            )
            event.at.FromDatetime(ref.at)
            if ref.event_id in payloads:
                event.payload.CopyFrom(payloads[ref.event_id])
            events.append(event)
        return api.GetDrillDownResponse(value=value, events=events)


SERVICE_NAME = api.DESCRIPTOR.services_by_name["PulseService"].full_name

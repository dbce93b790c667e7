"""The dashboard API over a replica fed from an in-memory log: boards per team and rep,
tenant walls, drill-down to the raw records."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Struct

from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from dealpulse.pulse.v1 import pulse_service_pb2 as api
from kernel.auth import Principal
from kernel.clock import FixedClock
from kernel.envelope import decode
from kernel.grpc_server import _principal
from dealpulse.activity.v1 import events_pb2 as activity_pb
from services.pulse.adapters.grpc_api import PulseApi
from services.pulse.adapters.replica import PulseReplica
from services.pulse.adapters.tenant_settings import TenantSettingsStore

from .records import TENANT, Log
from .test_stream_mapping import SITE_KNOWN, T0, effective_visit


class Aborted(Exception):
    pass


class Context:
    async def abort(self, code, details):
        raise Aborted(code, details)


class InMemoryReplica(PulseReplica):
    def __init__(self, log: Log) -> None:
        super().__init__("unused:9092", TenantSettingsStore(None))
        self._log = log

    async def payloads(self, refs):
        found = {}
        for ref in refs:
            record = next(r for r in self._log.records if (r.topic, r.offset) == (ref.topic, ref.offset))
            _, message = decode(activity_pb.ActivityEvent, record.value, record.headers)
            struct = Struct()
            struct.update(MessageToDict(message, preserving_proto_field_name=True))
            found[ref.event_id] = struct
        return found


@pytest.fixture
async def service():
    log = Log()
    log.rep("bob", "ann", T0)
    log.rep("carl", "dora", T0)
    effective_visit(log, 1, T0, rep="bob")
    effective_visit(log, 2, T0 + timedelta(hours=2), rep="bob")
    effective_visit(log, 1, T0, rep="carl", minutes=10)
    log.activity("globex-1", "check_in", T0, tenant="globex", rep="eve")
    replica = InMemoryReplica(log)
    replica.book.apply_batch([SITE_KNOWN])
    await replica.apply(log.records)
    return PulseApi(replica, FixedClock(T0 + timedelta(hours=5)))


def as_caller(subject: str, *roles: str, tenant: str = TENANT) -> None:
    _principal.set(Principal(subject=subject, tenant=tenant, roles=frozenset(roles)))


def by_name(values, indicator):
    return next(v for v in values if v.indicator == indicator)


async def test_a_managers_board_shows_the_team_and_each_rep(service):
    as_caller("ann", "manager")
    board = await service.GetHealthBoard(api.GetHealthBoardRequest(day="2026-03-02", manager_id="ann"), Context())
    assert [r.rep_id for r in board.reps] == ["bob"]
    visits = by_name(board.reps[0].indicators, pulse_pb.INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY)
    assert visits.value == 2.0 and visits.state == pulse_pb.HEALTH_STATE_GREEN
    assert board.team and board.watermark.ToDatetime() > T0.replace(tzinfo=None)
    everyone = await service.GetHealthBoard(api.GetHealthBoardRequest(day="2026-03-02"), Context())
    assert [r.rep_id for r in everyone.reps] == ["bob", "carl"]
    team = by_name(everyone.team, pulse_pb.INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY)
    assert team.value == 1.0  # (2 + 0) / 2 reps


async def test_a_rep_sees_only_their_own_row(service):
    as_caller("carl", "rep")
    board = await service.GetHealthBoard(api.GetHealthBoardRequest(day="2026-03-02"), Context())
    assert [r.rep_id for r in board.reps] == ["carl"]
    with pytest.raises(Aborted) as refused:
        await service.GetDrillDown(api.GetDrillDownRequest(indicator=pulse_pb.INDICATOR_LEAD_RESPONSE, rep_id="bob"), Context())
    assert refused.value.args[0] == grpc.StatusCode.PERMISSION_DENIED


async def test_tenants_are_walls(service):
    as_caller("gus", "manager", tenant="globex")
    board = await service.GetHealthBoard(api.GetHealthBoardRequest(day="2026-03-02"), Context())
    assert [r.rep_id for r in board.reps] == ["eve"]


async def test_drill_down_returns_the_raw_events_behind_the_number(service):
    as_caller("ann", "manager")
    request = api.GetDrillDownRequest(indicator=pulse_pb.INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY, rep_id="bob", day="2026-03-02")
    response = await service.GetDrillDown(request, Context())
    assert response.value.value == 2.0
    assert [e.kind for e in response.events] == ["activity.check_in", "activity.check_in"]
    first = response.events[0]
    assert first.topic == "gateway.activity.v1" and first.payload["evidence"]["password"] == "***"
    assert first.payload["check_in"]["location"]["latitude"] > 31


async def test_a_bad_day_is_invalid_argument(service):
    as_caller("ann", "manager")
    with pytest.raises(Aborted) as refused:
        await service.GetHealthBoard(api.GetHealthBoardRequest(day="02/03/2026"), Context())
    assert refused.value.args[0] == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_default_day_is_today_in_the_tenant_zone(service):
    as_caller("ann", "manager")
    board = await service.GetHealthBoard(api.GetHealthBoardRequest(), Context())
    assert board.day == "2026-03-02"

"""The stall sweeper on real Redis: a burst larger than one claim is fired in one
sweep, batch after batch, and a failing fire leaves its claims to their lease."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from kernel.clock import FixedClock
from kernel.deadlines import DeadlineStore
from dealpulse.actions.v1 import events_pb2 as events
from services.actions.adapters.projector import DeadlineSweeper, StallSweeper

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


async def test_a_burst_is_claimed_batch_after_batch_in_one_sweep(redis):
    deadlines = DeadlineStore(redis, f"test.sweep.{uuid.uuid4().hex}")
    for i in range(7):
        await deadlines.arm(f"t/{i}", T0, b"x")
    await deadlines.arm("t/later", T0 + timedelta(hours=1), b"x")
    fired = []

    async def fire(deadline):
        fired.append(deadline.member)

    sweeper = DeadlineSweeper(deadlines, FixedClock(T0), fire, what="stall", batch=3)
    assert await sweeper.sweep() == 7
    assert sorted(fired) == [f"t/{i}" for i in range(7)]
    assert await sweeper.sweep() == 0
    assert await deadlines.armed_count() == 1


async def test_a_sweep_whose_fires_fail_stops_and_leaves_the_claims_to_their_lease(redis):
    deadlines = DeadlineStore(redis, f"test.sweep.{uuid.uuid4().hex}")
    for i in range(6):
        await deadlines.arm(f"t/{i}", T0, b"x")
    attempts = []

    async def fire(deadline):
        attempts.append(deadline.member)
        raise ConnectionError("broker away")

    sweeper = DeadlineSweeper(deadlines, FixedClock(T0), fire, what="stall", batch=3)
    assert await sweeper.sweep() == 0
    assert len(attempts) == 3  # one claim, then it stopped instead of spinning
    late = DeadlineSweeper(deadlines, FixedClock(T0 + timedelta(seconds=31)), lambda d: _noop(), what="stall", batch=3)
    assert await late.sweep() == 6


async def _noop() -> None:
    return None


async def test_a_stall_sweep_publishes_a_claims_expiry_events_together_with_deterministic_ids(redis):
    deadlines = DeadlineStore(redis, f"test.sweep.{uuid.uuid4().hex}")
    for i in range(5):
        await deadlines.arm(f"t/o{i}", T0, events.StallDeadlineReached(stage="lead").SerializeToString())
    calls = []

    async def publish_all(outgoing):
        calls.append(list(outgoing))

    sweeper = StallSweeper(deadlines, None, FixedClock(T0), batch=10, publish_all=publish_all)
    assert await sweeper.sweep() == 5
    (published,) = calls
    assert sorted(e.key for e in published) == [f"t/o{i}" for i in range(5)]
    assert {e.spec.name for e in published} == {"actions.opportunity.v1"}
    assert all(e.payload.stall_deadline_reached.stage == "lead" for e in published)
    again = DeadlineStore(redis, f"test.sweep.{uuid.uuid4().hex}")
    await again.arm("t/o0", T0, events.StallDeadlineReached(stage="lead").SerializeToString())
    calls.clear()
    await StallSweeper(again, None, FixedClock(T0), publish_all=publish_all).sweep()
    assert calls[0][0].event_id == next(e.event_id for e in published if e.key == "t/o0")


async def test_a_failed_batch_publish_leaves_the_whole_claim_to_its_lease(redis):
    deadlines = DeadlineStore(redis, f"test.sweep.{uuid.uuid4().hex}")
    for i in range(4):
        await deadlines.arm(f"t/{i}", T0, b"")

    async def failing(outgoing):
        raise ConnectionError("broker away")

    assert await StallSweeper(deadlines, None, FixedClock(T0), publish_all=failing).sweep() == 0
    fired = []

    async def recording(outgoing):
        fired.extend(outgoing)

    later = StallSweeper(deadlines, None, FixedClock(T0 + timedelta(seconds=31)), publish_all=recording)
    assert await later.sweep() == 4 and len(fired) == 4


async def test_a_claim_is_produced_chunk_by_chunk_and_a_failed_chunk_is_left_to_its_lease(redis):
    deadlines = DeadlineStore(redis, f"test.sweep.{uuid.uuid4().hex}")
    for i in range(7):
        await deadlines.arm(f"t/{i}", T0, b"")
    chunks = []

    async def second_chunk_fails(due):
        chunks.append([d.member for d in due])
        if len(chunks) == 2:
            raise ConnectionError("broker away")

    sweeper = DeadlineSweeper(deadlines, FixedClock(T0), what="stall", batch=10, chunk=3, fire_all=second_chunk_fails)
    assert await sweeper.sweep() == 3
    assert [len(c) for c in chunks] == [3, 3]  # stopped at the failing chunk
    fired = []

    async def recording(outgoing):
        fired.extend(e.key for e in outgoing)

    later = StallSweeper(deadlines, None, FixedClock(T0 + timedelta(seconds=31)), publish_all=recording)
    assert await later.sweep() == 4
    assert sorted(fired) == sorted(set(f"t/{i}" for i in range(7)) - set(chunks[0]))

"""The stall sweeper on real Redis: a burst larger than one claim is fired in one
sweep, batch after batch, and a failing fire leaves its claims to their lease."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from kernel.clock import FixedClock
from kernel.deadlines import DeadlineStore
from services.actions.adapters.projector import DeadlineSweeper

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

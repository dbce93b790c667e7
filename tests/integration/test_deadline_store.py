"""The per-entity timer store on real Redis: arm, sweep, lease, supersede, restart."""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timedelta, timezone

from redis.asyncio import Redis

from kernel.config import Settings
from kernel.deadlines import DeadlineStore

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)


def store(redis) -> DeadlineStore:
    return DeadlineStore(redis, f"test.{uuid.uuid4().hex}")


async def test_only_due_deadlines_are_claimed_once(redis):
    deadlines = store(redis)
    await deadlines.arm("t/a", T0 + 10 * S, b"a")
    await deadlines.arm("t/b", T0 + 20 * S, b"b")
    assert await deadlines.claim_due(T0 + 9 * S, limit=10, lease_seconds=30) == []
    (due,) = await deadlines.claim_due(T0 + 15 * S, limit=10, lease_seconds=30)
    assert (due.member, due.payload, due.deadline) == ("t/a", b"a", T0 + 10 * S)
    assert await deadlines.claim_due(T0 + 16 * S, limit=10, lease_seconds=30) == []


async def test_an_unacknowledged_claim_is_fired_again_after_its_lease(redis):
    deadlines = store(redis)
    await deadlines.arm("t/a", T0, b"a")
    assert len(await deadlines.claim_due(T0, limit=10, lease_seconds=5)) == 1
    assert await deadlines.claim_due(T0 + 4 * S, limit=10, lease_seconds=5) == []
    (again,) = await deadlines.claim_due(T0 + 6 * S, limit=10, lease_seconds=5)
    assert again.member == "t/a" and again.deadline == T0
    await deadlines.acknowledge("t/a")
    assert await deadlines.claim_due(T0 + 60 * S, limit=10, lease_seconds=5) == []


async def test_rearming_supersedes_a_firing_in_flight(redis):
    deadlines = store(redis)
    await deadlines.arm("t/a", T0, b"old")
    await deadlines.claim_due(T0, limit=10, lease_seconds=5)
    await deadlines.arm("t/a", T0 + 100 * S, b"new")
    await deadlines.acknowledge("t/a")  # the old firing completes late
    assert await deadlines.claim_due(T0 + 50 * S, limit=10, lease_seconds=5) == []
    (due,) = await deadlines.claim_due(T0 + 100 * S, limit=10, lease_seconds=5)
    assert due.payload == b"new"


async def test_disarm_and_batch_limit(redis):
    deadlines = store(redis)
    for i in range(5):
        await deadlines.arm(f"t/{i}", T0, b"x")
    await deadlines.disarm("t/0")
    assert await deadlines.armed_count() == 4
    assert len(await deadlines.claim_due(T0, limit=3, lease_seconds=5)) == 3
    assert len(await deadlines.claim_due(T0, limit=3, lease_seconds=5)) == 1


async def test_armed_deadlines_survive_a_redis_restart():
    settings = Settings()
    name = f"test.{uuid.uuid4().hex}"
    client = Redis.from_url(settings.redis_url)
    await DeadlineStore(client, name).arm("t/a", T0, b"a")
    await client.aclose()

    subprocess.run(["bash", "deploy/local/redis.sh", "stop"], check=True)
    subprocess.run(["bash", "deploy/local/redis.sh", "start"], check=True)

    client = Redis.from_url(settings.redis_url)
    try:
        assert await DeadlineStore(client, name).deadline_of("t/a") == T0
    finally:
        await client.aclose()

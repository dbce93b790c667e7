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


async def test_queued_changes_arm_and_disarm_many_members_in_one_transaction(redis):
    deadlines = store(redis)
    for member in ("t/a", "t/b", "t/c"):
        await deadlines.arm(member, T0, b"old")
    claimed = await deadlines.claim_due(T0, limit=10, lease_seconds=5)
    assert len(claimed) == 3
    async with redis.pipeline(transaction=True) as tx:
        deadlines.queue_changes(tx, {"t/a": (T0 + 10 * S, b"new"), "t/d": (T0 + 20 * S, b"d")}, ["t/b"])
        await tx.execute()
    await deadlines.acknowledge("t/a", "t/b", "t/c")  # the firings in flight complete late
    assert await deadlines.deadline_of("t/b") is None
    assert await deadlines.armed_count() == 2
    # Re-armed members left the claim; the lease of the others runs out with nothing to fire.
    assert await deadlines.claim_due(T0 + 6 * S, limit=10, lease_seconds=5) == []
    due = await deadlines.claim_due(T0 + 20 * S, limit=10, lease_seconds=5)
    assert sorted((d.member, d.payload) for d in due) == [("t/a", b"new"), ("t/d", b"d")]


async def test_acknowledging_more_members_than_one_script_call_takes(redis):
    deadlines = store(redis)
    members = [f"t/{i}" for i in range(2500)]
    async with redis.pipeline(transaction=True) as tx:
        deadlines.queue_changes(tx, {m: (T0, b"x") for m in members}, [])
        await tx.execute()
    assert len(await deadlines.claim_due(T0, limit=3000, lease_seconds=5)) == 2500
    await deadlines.acknowledge(*members)
    assert await deadlines.claim_due(T0 + 60 * S, limit=3000, lease_seconds=5) == []
    assert await deadlines.armed_count() == 0

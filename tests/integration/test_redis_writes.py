"""`PackedTransaction` on real Redis: the same writes a MULTI of the same calls makes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from kernel.deadlines import DeadlineStore
from kernel.redis_writes import PackedTransaction

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


def prefix() -> str:
    return f"test:packed:{uuid.uuid4().hex}"


async def test_every_command_lands_with_its_values_byte_for_byte(redis):
    p = prefix()
    await redis.hset(f"{p}:h", mapping={"gone": "x", "stays": "y"})
    await redis.zadd(f"{p}:z", {"gone": 1, "stays": 2})
    binary = bytes(range(256)) + b"\r\n*3\r\n$"
    tx = PackedTransaction(redis)
    tx.mset({f"{p}:a": "é and \x00", f"{p}:b": binary})
    tx.hset(f"{p}:h", "one", b"")
    tx.hset(f"{p}:h", mapping={"two": binary, "three": 3})
    tx.sadd(f"{p}:s", "m1", "m2")
    tx.set(f"{p}:c", 7)
    tx.zadd(f"{p}:z", {"new": 1700000000123, "half": 0.5})
    tx.zrem(f"{p}:z", "gone")
    tx.hdel(f"{p}:h", "gone")
    assert len(tx) == 8
    await tx.execute()
    assert await redis.mget(f"{p}:a", f"{p}:b") == ["é and \x00".encode(), binary]
    assert await redis.hgetall(f"{p}:h") == {b"one": b"", b"two": binary, b"three": b"3", b"stays": b"y"}
    assert await redis.smembers(f"{p}:s") == {b"m1", b"m2"}
    assert await redis.get(f"{p}:c") == b"7"
    assert await redis.zrange(f"{p}:z", 0, -1, withscores=True) == [(b"half", 0.5), (b"stays", 2.0), (b"new", 1700000000123.0)]
    await redis.delete(*(f"{p}:{k}" for k in "abchsz"))


async def test_a_command_longer_than_lua_can_unpack_is_split(redis):
    p = prefix()
    fields = {f"f{i}": f"v{i}" for i in range(9000)}
    tx = PackedTransaction(redis)
    tx.hset(f"{p}:h", mapping=fields)
    tx.zrem(f"{p}:z", *fields)
    await tx.execute()
    stored = await redis.hgetall(f"{p}:h")
    assert len(stored) == 9000 and stored[b"f8999"] == b"v8999"
    await redis.delete(f"{p}:h")


async def test_a_failing_command_raises(redis):
    p = prefix()
    await redis.set(f"{p}:string", "x")
    tx = PackedTransaction(redis)
    tx.hset(f"{p}:string", "f", "v")
    with pytest.raises(Exception, match="WRONGTYPE"):
        await tx.execute()
    await redis.delete(f"{p}:string")


async def test_deadline_changes_queue_into_it_as_into_a_multi(redis):
    deadlines = DeadlineStore(redis, f"test.{uuid.uuid4().hex}")
    await deadlines.arm("t/old", T0, b"old")
    tx = PackedTransaction(redis)
    deadlines.queue_changes(tx, {"t/a": (T0 + timedelta(seconds=10), b"a")}, ["t/old"])
    await tx.execute()
    assert await deadlines.deadline_of("t/old") is None
    (due,) = await deadlines.claim_due(T0 + timedelta(seconds=10), limit=10, lease_seconds=30)
    assert (due.member, due.payload, due.deadline) == ("t/a", b"a", T0 + timedelta(seconds=10))

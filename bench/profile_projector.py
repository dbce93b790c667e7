"""Where the actions worker's time goes, without Faust: the projector in-process.

    python -m bench.profile_projector [--events 5000] [--opportunities 250] [--top 25]

Runs `ActionsProjector.on_opportunity_event` over a synthetic stream against the real
Redis, with the publisher stubbed (no Kafka writes) and stall timers in a private
deadline set, then:
  1. the projector's own rate (events/s) and Redis commands per event;
  2. the cost per event against the size of the stored state (actions so far);
  3. the same stream under cProfile: top functions, and the share of wall time spent
     waiting in the event loop's selector (I/O: Redis round trips and AOF fsync);
  4. micro-benchmarks on the same machine: a Redis GET vs SET round trip (SET pays the
     `appendfsync always` fsync) and an acks=all `send_and_wait` on `bench.latency.v1`;
  5. the stall path alone (`--stall-only` runs just this): K opportunities opened, a
     `StallSweeper` on a fixed clock 49 h ahead and then the projector raising the
     alerts in batches of 500 (`on_opportunity_batch`), both publishing for real through
     a `BatchPublisher` (acks=all) redirected to `bench.latency.v1`: deadlines/s,
     alerts/s and CPU per alert (`--profile-stall`: the raising under cProfile).
Starts no workload (no lock needed); deletes its Redis keys at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bench.generator import OrgShape, activity, generate_org
from bench.run import PROBE_TOPIC, Broker, percentile
from kernel.clock import FixedClock
from kernel.config import Settings
from kernel.deadlines import DeadlineStore
from kernel.envelope import Envelope
from kernel.kafka import BatchPublisher, EventPublisher, OutgoingEvent
from kernel.topics import OPPORTUNITY, TopicSpec
from bench.generator import openings
from dealpulse.actions.v1 import events_pb2 as events
from services.actions.adapters.projector import STALL_CLAIM, STALL_PRODUCE_CHUNK, ActionsProjector, StallSweeper
from services.actions.adapters.read_models import ActionsReadModel, Position

# Events per apply in the stall path, as the worker's agent takes them.
BATCH = 500


async def _stub_send(topic, key, value, headers):
    return 0, 0


def _stream(tenant: str, seed: int, events: int, opportunities: int):
    org = generate_org(seed, [tenant], OrgShape(opportunities=opportunities))
    start = datetime.now(timezone.utc) - timedelta(days=1)
    return [(r, Envelope.from_headers(r.headers())) for r in activity(org, seed=seed, rate=50, count=events, start=start)]


async def _apply(projector: ActionsProjector, stream, sizes: dict | None = None) -> float:
    actions_so_far: dict[str, int] = defaultdict(int)
    started = time.perf_counter()
    for offset, (record, envelope) in enumerate(stream):
        t = time.perf_counter()
        await projector.on_opportunity_event(envelope, record.payload, Position(0, offset))
        if sizes is not None:
            n = actions_so_far[record.key]
            bucket = "0-9" if n < 10 else "10-29" if n < 30 else "30-59" if n < 60 else "60+"
            sizes[bucket].append(time.perf_counter() - t)
        if record.payload.WhichOneof("change") == "action_recorded":
            actions_so_far[record.key] += 1
    return time.perf_counter() - started


class RedisTimer:
    """Wall time spent awaiting Redis (single commands, scripts and pipelines)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self) -> "RedisTimer":
        self._saved = (Redis.execute_command, Pipeline.execute)
        timer = self

        def timed(original):
            async def wrapper(self, *args, **kwargs):
                t = time.perf_counter()
                try:
                    return await original(self, *args, **kwargs)
                finally:
                    timer.seconds += time.perf_counter() - t
                    timer.calls += 1

            return wrapper

        Redis.execute_command = timed(Redis.execute_command)
        Pipeline.execute = timed(Pipeline.execute)
        return self

    def __exit__(self, *exc) -> None:
        Redis.execute_command, Pipeline.execute = self._saved


async def _commands(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return sum(v["calls"] for v in stats.values())


async def _cleanup(redis: Redis, tenants: list[str], deadline_names: list[str]) -> int:
    deleted = 0
    for tenant in tenants:
        keys = [k async for k in redis.scan_iter(match=f"dealpulse:actions:{tenant}:*", count=1000)]
        for i in range(0, len(keys), 500):
            deleted += await redis.delete(*keys[i : i + 500])
    for name in deadline_names:
        deleted += await redis.delete(*(f"dealpulse:deadlines:{name}:{part}" for part in ("due", "claimed", "payloads")))
    return deleted


async def main(args: argparse.Namespace) -> None:
    settings = Settings()
    redis = Redis.from_url(settings.redis_url)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    tenants = [f"bench-prof-{stamp}-a", f"bench-prof-{stamp}-b"]
    # Private timer sets: escalations armed in the shared `actions.escalation` set would
    # be fired by a running stack's worker.
    deadline_names = [f"bench.profile.{stamp}", f"bench.profile.{stamp}.escalation"]
    publisher = EventPublisher(_stub_send, "dealpulse/bench")
    escalation = DeadlineStore(redis, deadline_names[1])
    projector = ActionsProjector(ActionsReadModel(redis), DeadlineStore(redis, deadline_names[0]), publisher, escalation)
    try:
        if args.stall_only:
            tenants.append(f"bench-prof-{stamp}-c")
            deadline_names.append(f"bench.profile.{stamp}.stall")
            await stall_path(settings, redis, tenants[-1], deadline_names[-1], escalation, args)
            return
        # 1 + 2: plain run.
        stream = _stream(tenants[0], args.seed, args.events, args.opportunities)
        sizes: dict[str, list[float]] = defaultdict(list)
        before = await _commands(redis)
        with RedisTimer() as waited:
            elapsed = await _apply(projector, stream, sizes)
        commands = await _commands(redis) - before
        print(f"projector alone (no Faust, no Kafka): {len(stream)} events in {elapsed:.2f}s = "
              f"{len(stream) / elapsed:,.0f} events/s; {commands / len(stream):.1f} Redis commands in "
              f"{waited.calls / len(stream):.1f} round trips per event; awaiting Redis {waited.seconds:.2f}s "
              f"({100 * waited.seconds / elapsed:.0f}%), the rest is Python in the projector")
        print("cost per event by actions already stored in the opportunity's state:")
        for bucket in ("0-9", "10-29", "30-59", "60+"):
            if sizes[bucket]:
                xs = sizes[bucket]
                print(f"  {bucket:>6} actions: {len(xs):5} events, mean {sum(xs) / len(xs) * 1000:.2f} ms, "
                      f"p50 {percentile(xs, 50) * 1000:.2f} ms")

        # 3: the same stream for another tenant, under cProfile.
        stream = _stream(tenants[1], args.seed, args.events, args.opportunities)
        profiler = cProfile.Profile()
        profiler.enable()
        elapsed = await _apply(projector, stream)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        waiting = sum(v[3] for k, v in stats.stats.items() if k[2] in ("poll", "select") or "epoll" in k[2])
        print(f"\nunder cProfile: {len(stream) / elapsed:,.0f} events/s; waiting in the selector (I/O) "
              f"{waiting:.2f}s of {elapsed:.2f}s = {100 * waiting / elapsed:.0f}%")
        stats.sort_stats("tottime").print_stats(args.top)
        print("\n".join(out.getvalue().splitlines()[:args.top + 12]))
        groups = {
            "json (state_to_json/state_from_json)": ("read_models.py", ("state_to_json", "state_from_json")),
            "dataclasses.asdict": ("dataclasses.py", ("asdict", "_asdict_inner")),
            "deadline arm (pipeline)": ("deadlines.py", ("arm",)),
            "read_model.policy": ("read_models.py", ("policy",)),
        }
        for label, (file, names) in groups.items():
            cumulative = max((v[3] for k, v in stats.stats.items() if k[0].endswith(file) and k[2] in names), default=0)
            print(f"  cumulative in {label}: {cumulative:.2f}s ({100 * cumulative / elapsed:.0f}%)")

        # 4: micro-benchmarks.
        key = f"dealpulse:actions:{tenants[0]}:probe"
        value = b"x" * 2000
        await redis.set(key, value)
        gets, sets = [], []
        for _ in range(1000):
            t = time.perf_counter()
            await redis.get(key)
            gets.append(time.perf_counter() - t)
            t = time.perf_counter()
            await redis.set(key, value)
            sets.append(time.perf_counter() - t)
        print(f"\nRedis round trip (redis.asyncio): GET p50 {percentile(gets, 50) * 1e3:.3f} ms, "
              f"SET p50 {percentile(sets, 50) * 1e3:.3f} ms (SET pays appendfsync={(await redis.config_get('appendfsync'))['appendfsync']})")
        broker = Broker(settings.kafka_bootstrap)
        broker.ensure_probe_topic()
        broker.close()
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            acks = []
            for i in range(300):
                t = time.perf_counter()
                await producer.send_and_wait(PROBE_TOPIC, value=b"probe", key=str(i).encode())
                acks.append(time.perf_counter() - t)
        finally:
            await producer.stop()
        print(f"Kafka send_and_wait (acks=all, idempotent), one at a time: p50 {percentile(acks, 50) * 1e3:.2f} ms, "
              f"p99 {percentile(acks, 99) * 1e3:.2f} ms -> at most {1 / percentile(acks, 50):,.0f} awaited publishes/s")
        # 5: the stall path alone.
        tenants.append(f"bench-prof-{stamp}-c")
        deadline_names.append(f"bench.profile.{stamp}.stall")
        await stall_path(settings, redis, tenants[-1], deadline_names[-1], escalation, args)
    finally:
        deleted = await _cleanup(redis, tenants, deadline_names)
        print(f"(deleted {deleted} Redis keys of the profile run)")
        await redis.aclose()


async def stall_path(
    settings: Settings, redis: Redis, tenant: str, deadline_name: str, escalation: DeadlineStore, args
) -> None:
    """The worker's stall path without Faust: a `StallSweeper` and the projector's batch
    apply, both publishing through a `BatchPublisher` (acks=all) redirected to
    `bench.latency.v1`; wall and CPU time per alert, and a cProfile of the apply."""
    org = generate_org(args.seed, [tenant], OrgShape(opportunities=args.stalled))
    now = datetime.now(timezone.utc)
    stall = DeadlineStore(redis, deadline_name)
    read_model = ActionsReadModel(redis)
    opener = ActionsProjector(read_model, stall, EventPublisher(_stub_send, "dealpulse/bench"), escalation)
    opened = [(r.envelope(), r.payload, Position(0, i)) for i, r in enumerate(openings(org, now, args.seed))]
    for start in range(0, len(opened), BATCH):
        await opener.on_opportunity_batch(opened[start : start + BATCH], _reject)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True, linger_ms=2, max_batch_size=512 * 1024
    )
    await producer.start()
    batches = BatchPublisher(producer, "dealpulse/bench")
    captured: list[OutgoingEvent] = []

    probes: dict[str, TopicSpec] = {}

    async def redirected(outgoing):
        captured.extend(e for e in outgoing if e.spec is OPPORTUNITY)
        for e in outgoing:
            if e.spec.name not in probes:
                probes[e.spec.name] = replace(e.spec, name=PROBE_TOPIC)
        return await batches.publish([replace(e, spec=probes[e.spec.name]) for e in outgoing])

    try:
        clock = FixedClock(now + timedelta(hours=49))
        sweeper = StallSweeper(stall, EventPublisher(_stub_send, "dealpulse/bench"), clock, publish_all=redirected)
        started, cpu = time.perf_counter(), time.process_time()
        while await sweeper.sweep():
            pass
        swept, swept_cpu = time.perf_counter() - started, time.process_time() - cpu
        raiser = ActionsProjector(
            read_model, stall, EventPublisher(_stub_send, "dealpulse/bench"), escalation, publish_all=redirected
        )
        base = args.stalled + 10
        items = [
            (Envelope.for_topic(OPPORTUNITY, source="bench", subject=e.key, tenant_id=e.tenant_id, time=e.event_time,
                                event_id=e.event_id), e.payload, Position(0, base + i))
            for i, e in enumerate(captured)
        ]
        profiler = cProfile.Profile() if args.profile_stall else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for start in range(0, len(items), BATCH):
            await raiser.on_opportunity_batch(items[start : start + BATCH], _reject)
        if profiler:
            profiler.disable()
        raised, raised_cpu = time.perf_counter() - started, time.process_time() - cpu
        alerts = len(await redis.hkeys(f"dealpulse:actions:{tenant}:alerts"))
    finally:
        await producer.stop()
    print(f"\nstall path alone, {args.stalled} due timers (BatchPublisher, acks=all, to {PROBE_TOPIC}):")
    print(f"  sweeper: {len(captured)} expiry events in {swept:.2f}s = {len(captured) / swept:,.0f}/s, "
          f"CPU {swept_cpu / len(captured) * 1e6:,.0f} us per deadline (claims of {STALL_CLAIM}, produced "
          f"{STALL_PRODUCE_CHUNK} at a time, one acknowledge each)")
    print(f"  projector raising alerts in batches of {BATCH}: {alerts} alerts in {raised:.2f}s = {alerts / raised:,.0f}/s, "
          f"CPU {raised_cpu / alerts * 1e6:,.0f} us per alert{' (under cProfile)' if profiler else ''}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print("\n".join(out.getvalue().splitlines()[: args.top + 12]))


async def _reject(at: Position, problem: Exception) -> None:
    raise problem


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--opportunities", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--stalled", type=int, default=2000, help="due stall timers for the stall-path measurement")
    parser.add_argument("--profile-stall", action="store_true", help="run the stall path's alert raising under cProfile")
    parser.add_argument("--stall-only", action="store_true", help="measure the stall path alone (step 5)")
    asyncio.run(main(parser.parse_args()))

"""Stall-timer benchmark: N open opportunities with armed stall timers (memory of the
worker and of Redis), and how late a burst of K stall alerts arrives once the clock
passes their deadline, next to raw aiokafka produce->consume in the same run.

    python -m bench.stall_timers [--opportunities 1000000] [--burst 2000] [--reps 2000]

1. A Redis of its own (deploy/local/redis.sh on --redis-port, appendfsync always, data
   under /tmp), so a million records never land in the shared Redis and its memory is
   the bench's alone. Stopped and deleted at the end.
2. Seed: N opportunities of a fresh tenant are written into it with the projector's own
   code (`ActionsReadModel.queue_opportunity` for the state, `DeadlineStore.queue_arm`
   for the stall timer, as `ActionsProjector` stores them when it applies an
   `OpportunityOpened`), plus R reps in teams of 8 with their managers. This skips
   pushing N events through the broker first; the stored positions are (-1, -1), so the
   worker treats every later event as new. K opportunities (the burst) are due at the
   same instant D; the others between D + 1 h and D + 48 h.
3. The real actions worker and the actions reporting worker (`tools.stack`, the same
   commands as `make up`) start with DEALPULSE_CLOCK=adjustable and DEALPULSE_REDIS_URL
   pointing at the bench Redis, and catch their consumer groups up. Memory: the worker process's VmRSS/VmHWM
   (/proc/<pid>/status) and, separately, the bench Redis' used_memory /
   used_memory_rss and the MEMORY USAGE of the stall deadline keys.
4. Burst: the bench Redis' clock offset is set so that the clock passes D at wall time
   t0. Every AlertRaised of the tenant on `actions.alert.raised.v1` is timed:
   lateness = receive wall time - t0 (the sweeper, its expiry event, the worker's
   decision, the alert's produce and this consumer's fetch). Exactly K alerts and no
   duplicate ids, or the run fails.
5. Baseline: K raw records produced at once and consumed with aiokafka (bench.run's
   `raw_latency`), on the same broker in the same run.

Takes the stack lock (/tmp/dealpulse-stack.lock) like the end-to-end tests. Results:
bench/results/stall_timers.md (appended) and stall_timers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from bench.run import (
    RESULTS,
    REPORTING_GROUP,
    REPORTING_TOPICS,
    REPORTING_WORKER,
    ROOT,
    WORKER,
    BenchFailure,
    Broker,
    StackLock,
    header,
    log,
    machine_facts,
    section_header,
    pid_from,
    raw_latency,
    summary_ms,
    wait_caught_up,
)
from dealpulse.actions.v1 import events_pb2 as events
from kernel.clock import SHARED_OFFSET_KEY
from kernel.config import Settings
from kernel.deadlines import DeadlineStore
from kernel.envelope import decode
from kernel.topics import ALERT_RAISED
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.bootstrap import STALL_DEADLINES
from services.actions.domain import opportunity as domain
from services.actions.domain.policy import DEFAULT_POLICY
from tools import stack

SEED_BATCH = 5000
TEAM_SIZE = 8
UNSEEN = Position(-1, -1)
STAGES = ("qualification", "needs_diagnosis", "proposal", "negotiation")


def rss_kib(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(kib_or_bytes: int, unit: str = "KiB") -> float:
    return round(kib_or_bytes / (1024 if unit == "KiB" else 1024 * 1024), 1)


class BenchRedis:
    """A durable Redis of the bench's own, run by the project's script."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(f"/tmp/dealpulse-bench-redis-{port}")
        self.env = {**os.environ, "DEALPULSE_RUN": str(self.root), "REDIS_PORT": str(port)}

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return pid_from(self.root / "redis" / "redis.pid")

    def start(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        subprocess.run([str(ROOT / "deploy/local/redis.sh"), "start"], env=self.env, check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([str(ROOT / "deploy/local/redis.sh"), "stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


async def seed(redis: Redis, tenant: str, n: int, k: int, reps: int, deadline: datetime, seed_: int) -> dict:
    """N opportunities, stored as the projector stores an opened one; K due at `deadline`."""
    rng = random.Random(seed_)
    read_model = ActionsReadModel(redis)
    stall = DeadlineStore(redis, STALL_DEADLINES)
    rep_ids = [f"rep-{i:05d}" for i in range(reps)]
    async with redis.pipeline(transaction=False) as batch:
        for i, rep in enumerate(rep_ids):
            manager = f"mgr-{i // TEAM_SIZE:04d}"
            record = {"entity": {"rep_id": rep, "display_name": rep, "manager_id": manager}, "partition": -1, "offset": -1}
            batch.set(read_model.key(tenant, "rep", rep), json.dumps(record))
        await batch.execute()
    started = time.perf_counter()
    threshold = DEFAULT_POLICY.stall_threshold
    for start in range(0, n, SEED_BATCH):
        async with redis.pipeline(transaction=False) as batch:
            for i in range(start, min(n, start + SEED_BATCH)):
                due = deadline if i < k else deadline + timedelta(seconds=rng.randint(3600, 48 * 3600))
                outcome = domain.opened(
                    tenant_id=tenant,
                    opportunity_id=f"opp-{i:07d}",
                    account_id=f"acct-{i % (n // 3 + 1):07d}",
                    name=f"Opportunity {i}",
                    owner_id=rep_ids[i % reps],
                    stage=STAGES[i % len(STAGES)],
                    amount_cents=rng.randint(1, 10_000) * 100_000,
                    currency="CNY",
                    at=due - threshold,
                    policy=DEFAULT_POLICY,
                )
                (arm,) = outcome.effects
                read_model.queue_opportunity(batch, outcome.state, UNSEEN)
                reached = events.StallDeadlineReached(stage=arm.stage)
                reached.deadline.FromDatetime(arm.deadline)
                stall.queue_arm(batch, outcome.state.key, arm.deadline, reached.SerializeToString())
            await batch.execute()
        if (start // SEED_BATCH) % 40 == 0:
            log(f"seeded {min(n, start + SEED_BATCH):,} of {n:,}")
    return {"seconds": round(time.perf_counter() - started, 1), "armed": await stall.armed_count()}


async def redis_memory(redis: Redis) -> dict:
    info = await redis.info("memory")
    prefix = f"dealpulse:deadlines:{STALL_DEADLINES}"
    keys = {}
    for suffix in ("due", "claimed", "payloads"):
        keys[suffix] = await redis.memory_usage(f"{prefix}:{suffix}", samples=0) or 0
    return {
        "used_memory_mib": mib(info["used_memory"], "B"),
        "used_memory_rss_mib": mib(info["used_memory_rss"], "B"),
        "stall_deadline_keys_mib": mib(sum(keys.values()), "B"),
        "keys": await redis.dbsize(),
    }


async def burst(
    bootstrap: str, broker: Broker, redis: Redis, tenant: str, k: int, deadline: datetime, worker_pid: int
) -> dict:
    """Move the bench clock past the K deadlines at t0; time every alert of the tenant,
    and the worker's CPU time from t0 to the last alert."""
    ends = broker.end_offsets([ALERT_RAISED.name])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100,
        client_id="dealpulse-bench-stall-alerts",
    )
    await consumer.start()
    received: list[tuple[float, object]] = []
    tenant_bytes = tenant.encode()
    try:
        consumer.assign(list(ends))
        for tp, offset in ends.items():
            consumer.seek(tp, offset)
        await consumer.getmany(timeout_ms=200)

        async def collect(stop: asyncio.Event) -> None:
            while not stop.is_set():
                for messages in (await consumer.getmany(timeout_ms=50)).values():
                    at = time.time()
                    received.extend((at, m) for m in messages if header(m.headers, "ce_tenantid") == tenant_bytes)

        stop = asyncio.Event()
        collector = asyncio.create_task(collect(stop))
        # The clock reads wall time + offset: from t0 on, it is at or past the deadline.
        t0 = time.time() + 1.0
        await redis.set(SHARED_OFFSET_KEY, deadline.timestamp() - t0)
        await asyncio.sleep(max(0.0, t0 - time.time()))
        cpu_at_t0 = cpu_seconds(worker_pid)
        limit = time.monotonic() + 60 + k / 20
        while len(received) < k and time.monotonic() < limit:
            if collector.done():
                collector.result()
            await asyncio.sleep(0.02)
        worker_cpu = cpu_seconds(worker_pid) - cpu_at_t0
        await asyncio.sleep(3.0)  # anything more would be a duplicate
        stop.set()
        await collector
    finally:
        await consumer.stop()
    decoded = [(at, *decode(events.AlertRaised, m.value, m.headers)) for at, m in received]
    ids = Counter(envelope.event_id for _, envelope, _ in decoded)
    duplicates = sum(c - 1 for c in ids.values())
    if len(ids) != k or duplicates:
        raise BenchFailure(f"expected exactly {k} alerts; got {len(decoded)} records, {len(ids)} distinct, {duplicates} duplicates")
    lateness = [at - t0 for at, _, _ in decoded]
    return {
        "alerts": len(decoded),
        "duplicates": duplicates,
        "without_manager": sum(not a.manager_id for _, _, a in decoded),
        "lateness": summary_ms(lateness),
        "within_1s": sum(x <= 1.0 for x in lateness),
        "alerts_per_s": round(k / max(lateness), 1),
        "worker_cpu_s": round(worker_cpu, 2),
        "worker_cpu_per_alert_us": round(worker_cpu / k * 1e6),
    }


async def run(args: argparse.Namespace) -> dict:
    settings = Settings()
    tenant = f"bench-timers-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    bench_redis = BenchRedis(args.redis_port)
    broker = Broker(settings.kafka_bootstrap)
    result: dict = {"tenant": tenant}
    with StackLock():
        if stack.pid_of(WORKER):
            raise BenchFailure(f"{WORKER} is running (someone's stack is up); stop it first")
        bench_redis.start()
        redis = Redis.from_url(bench_redis.url)
        try:
            result["machine"] = machine_facts(settings)
            info = await redis.info("server")
            result["machine"]["redis"] = (
                f"{info['redis_version']}, own instance on port {args.redis_port}, "
                f"appendfsync={(await redis.config_get('appendfsync'))['appendfsync']}"
            )
            empty = await redis_memory(redis)
            deadline = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
            log(f"seeding {args.opportunities:,} opportunities with armed stall timers into {bench_redis.url}")
            result["seed"] = await seed(redis, tenant, args.opportunities, args.burst, args.reps, deadline, args.seed)
            if result["seed"]["armed"] != args.opportunities:
                raise BenchFailure(f"{result['seed']['armed']} timers armed, expected {args.opportunities}")
            await redis.execute_command("MEMORY", "PURGE")
            seeded = await redis_memory(redis)
            # Both actions workers run, as `make up` starts them: the burst's alerts come
            # from WORKER while REPORTING_WORKER applies the same records to the report
            # aggregates on the machine's other core.
            log(f"starting {WORKER} and {REPORTING_WORKER} on the bench Redis")
            for name in (WORKER, REPORTING_WORKER):
                stack.start(name, {"DEALPULSE_CLOCK": "adjustable", "DEALPULSE_REDIS_URL": bench_redis.url})
            await asyncio.to_thread(stack.wait_ready, [WORKER, REPORTING_WORKER], 180)
            await wait_caught_up(broker, "before the burst", timeout=600)
            await wait_caught_up(
                broker, "before the burst", timeout=900, worker=REPORTING_WORKER, groups=((REPORTING_GROUP, REPORTING_TOPICS),)
            )
            worker_pid = stack.pid_of(WORKER)
            await asyncio.sleep(2.0)  # a few sweeps over the million armed timers
            idle = rss_kib(worker_pid)
            log(f"worker RSS {mib(idle['VmRSS'])} MiB; raw produce->consume latency of {args.burst} records")
            result["baseline_latency"] = await raw_latency(settings.kafka_bootstrap, broker, args.burst)
            log(f"moving the bench clock past {args.burst} deadlines")
            result["burst"] = await burst(settings.kafka_bootstrap, broker, redis, tenant, args.burst, deadline, worker_pid)
            after = rss_kib(worker_pid)
            result["memory"] = {
                "worker_rss_idle_mib": mib(idle["VmRSS"]),
                "worker_rss_after_burst_mib": mib(after["VmRSS"]),
                "worker_rss_peak_mib": mib(after["VmHWM"]),
                "redis_empty": empty,
                "redis_seeded": seeded,
                "redis_after_burst": await redis_memory(redis),
                "redis_process_rss_mib": mib(rss_kib(bench_redis.pid)["VmRSS"]) if bench_redis.pid else None,
            }
            result["armed_after_burst"] = await DeadlineStore(redis, STALL_DEADLINES).armed_count()
        finally:
            for name in (WORKER, REPORTING_WORKER):
                if stack.pid_of(name):
                    log(f"stopping {name}")
                    await asyncio.to_thread(stack.stop, name)
            await redis.aclose()
            bench_redis.stop()
            broker.close()
    return result


def write_results(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "stall_timers.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    mem, b, base = result["memory"], result["burst"], result["baseline_latency"]["burst_from_t0"]
    lat = b["lateness"]
    rows = [
        ("figure", "baseline (raw aiokafka)", "stall alerts (sweeper + worker)"),
        (f"lateness p50, burst of {b['alerts']}", f"{base['p50_ms']:,.1f} ms", f"{lat['p50_ms']:,.1f} ms"),
        (f"lateness p99, burst of {b['alerts']}", f"{base['p99_ms']:,.1f} ms", f"{lat['p99_ms']:,.1f} ms"),
        ("lateness max", f"{base['max_ms']:,.1f} ms", f"{lat['max_ms']:,.1f} ms"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    table = ["| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |" for r in rows]
    table.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    seeded = mem["redis_seeded"]
    section = [
        *section_header(result),
        f"N = {result['parameters']['opportunities']:,} open opportunities with armed stall timers "
        f"(seeded in {result['seed']['seconds']} s), K = {b['alerts']:,} due at the same instant.",
        "",
        "Memory (each process measured on its own):",
        "",
        f"- **Worker process** (`python -m services.actions worker`), resident set: {mem['worker_rss_idle_mib']} MiB with "
        f"the {result['parameters']['opportunities']:,} timers armed, {mem['worker_rss_after_burst_mib']} MiB after the burst, "
        f"peak {mem['worker_rss_peak_mib']} MiB. The worker holds no timer state.",
        f"- **Redis** (its own instance): used_memory {seeded['used_memory_mib']:,} MiB with everything seeded "
        f"({mem['redis_empty']['used_memory_mib']} MiB empty), used_memory_rss {seeded['used_memory_rss_mib']:,} MiB, "
        f"process RSS at the end {mem['redis_process_rss_mib']:,} MiB; of which the stall deadline keys "
        f"(sorted set + payload hash) {seeded['stall_deadline_keys_mib']:,} MiB, the rest is the opportunity projection "
        f"({seeded['keys']:,} keys).",
        "",
        *table,
        "",
        f"- {b['within_1s']:,} of {b['alerts']:,} alerts arrived within 1 s of the deadline; {b['duplicates']} duplicates; "
        f"{b['without_manager']} without a manager; {b['alerts_per_s']:,} alerts/s over the burst. Timers still armed "
        f"after it: {result['armed_after_burst']:,}.",
        f"- Worker CPU from the deadline to the last alert: {b['worker_cpu_s']} s, {b['worker_cpu_per_alert_us']:,} us per "
        f"alert (sweeper and projector; the report aggregates are applied by {REPORTING_WORKER}, a process of its own, "
        f"running meanwhile; load average at the end "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores).",
        f"- Raw baseline per record (send to receive) p50 {result['baseline_latency']['burst_per_record']['p50_ms']} ms; "
        f"one record at a time p50/p99 {result['baseline_latency']['one_at_a_time']['p50_ms']}/"
        f"{result['baseline_latency']['one_at_a_time']['p99_ms']} ms.",
        "",
    ]
    path = RESULTS / "stall_timers.md"
    if not path.exists():
        path.write_text(
            "# Stall-timer benchmark\n\n"
            "Written by `python -m bench.stall_timers` (its docstring gives the method); newest run last.\n"
            "Target (issue 3): 1,000,000 open opportunities with armed stall timers in <= 1 GiB resident memory per "
            "worker, and each alert <= 1 s after its deadline when the clock passes it. Lateness = alert received "
            "by a consumer - the moment the clock passed the deadline, through the real sweeper and worker.\n\n"
        )
    with open(path, "a") as f:
        f.write("\n".join(section) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000, help="N: open opportunities with armed timers")
    parser.add_argument("--burst", type=int, default=2000, help="K: of those, due at the same instant")
    parser.add_argument("--reps", type=int, default=2000, help="reps owning them, in teams of 8")
    parser.add_argument("--redis-port", type=int, default=6391, help="port of the bench's own Redis")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print the result instead of writing bench/results")
    args = parser.parse_args()
    if not 0 < args.burst <= args.opportunities:
        parser.error("--burst must be between 1 and --opportunities")
    started = datetime.now(timezone.utc)
    try:
        result = asyncio.run(run(args))
    except BenchFailure as exc:
        sys.exit(f"bench failed: {exc}")
    result["parameters"] = {k: v for k, v in vars(args).items() if k != "no_write"}
    result["command"] = "python -m bench.stall_timers " + " ".join(
        shlex.quote(a) for a in sys.argv[1:] if a != "--no-write"
    )
    result["started_at"] = started.strftime("%Y-%m-%d %H:%M:%S UTC")
    result["finished_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if args.no_write:
        print(json.dumps(result, indent=2))
    else:
        write_results(result)
        log(f"wrote {RESULTS / 'stall_timers.md'}")


if __name__ == "__main__":
    main()

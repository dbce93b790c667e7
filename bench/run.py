"""Benchmark of the actions slice next to raw aiokafka, in one run on the same broker.

    python -m bench.run [--events 20000] [--opportunities 2000] [--stream-opportunities 1000] [--seed 1]

1. Throughput. N synthetic opportunity events (bench/generator.py) for a fresh tenant
   are produced onto `actions.opportunity.v1` while the actions worker is stopped.
   a. Baseline: a fresh aiokafka consumer reads exactly those N records (assigned
      partitions, seeked to where they begin) and decodes each envelope: events/s.
   b. Slice: the actions worker (`tools.stack`, DEALPULSE_CLOCK=adjustable) is started
      and projects the N records into Redis; events/s = N / (time from the first to the
      last record visible in the projection). The worker's group is caught up first, so
      only the bench's records are measured.
2. Latency. K opportunities of a second fresh tenant (default 48 h threshold) are
   opened and projected; at t0 the shared clock moves 49 h; every alert on
   `actions.alert.raised.v1` is timed (receive wall time - t0): p50/p99/max, and the
   count must be K. Baseline: raw aiokafka produce->consume latency of K small records
   on a bench topic (`bench.latency.v1`), burst and one at a time.

Workloads are started under the exclusive lock `/tmp/dealpulse-stack.lock` that the
end-to-end tests also take; the run refuses to start when someone else's stack is up,
and stops what it started. Results: bench/results/slice.md (appended) and slice.json.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import math
import os
import platform
import re
import shlex
import struct
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from redis.asyncio import Redis

from bench.generator import OrgShape, Record, generate_org, activity, openings, org_records, policy_record
from dealpulse.actions.v1 import events_pb2 as events
from kernel.clock import SHARED_OFFSET_KEY, SharedAdjustableClock, advance_shared_clock
from kernel.config import Settings
from kernel.envelope import EnvelopeError, decode, header_pairs
from kernel.topics import ACCOUNT, ALERT_RAISED, OPPORTUNITY, POLICY, REP
from services.actions.adapters.streams import PROJECTOR_GROUP
from services.actions.bootstrap import STALL_DEADLINES
from tools import stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
LOCK_PATH = "/tmp/dealpulse-stack.lock"
WORKER = "actions-worker"
GROUP = "dealpulse-actions"  # faust.App id "dealpulse-actions" is the consumer group
REPORTING_WORKER = "actions-reporting"
REPORTING_GROUP = "dealpulse-actions-reporting"
REPORTING_TOPICS = (OPPORTUNITY.name, REP.name)
WORKER_TOPICS = (ACCOUNT.name, REP.name, POLICY.name)
# The worker reads the opportunity topic in a consumer group of its own.
WORKER_GROUPS = ((GROUP, WORKER_TOPICS), (PROJECTOR_GROUP, (OPPORTUNITY.name,)))
PROBE_TOPIC = "bench.latency.v1"
STALL_DUE_KEY = f"dealpulse:deadlines:{STALL_DEADLINES}:due"
HOURS_49 = 49 * 3600
# The throughput tenant's threshold: long enough that moving the clock 49 h for the
# latency phase (and later runs) never fires its thousand stall timers.
LONG_THRESHOLD = timedelta(days=365)
_OFFSET_TAIL = re.compile(rb'"offset":\s*(\d+)\}\s*$')


class BenchFailure(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    return {
        "count": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 2),
        "p99_ms": round(percentile(seconds, 99) * 1000, 2),
        "max_ms": round(max(seconds) * 1000, 2),
    }


# --- the stack lock and the worker ----------------------------------------------------
class StackLock:
    """The lock the end-to-end tests take around the workloads they start."""

    def __enter__(self) -> "StackLock":
        self._file = open(LOCK_PATH, "a")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for {LOCK_PATH} (another bench or the end-to-end tests hold it)")
            fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of a process, from /proc."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def machine_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


@dataclass
class CpuMeter:
    """CPU used by the worker, Kafka, Redis and this process over a phase, plus every
    other process on the machine ("others": noise from other work) and VM steal."""

    pids: dict[str, int | None]
    start: dict[str, float | None] = field(default_factory=dict)
    wall: float = 0.0
    machine: tuple[float, float] = (0.0, 0.0)

    def begin(self) -> None:
        self.start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine = machine_cpu()
        self.wall = time.perf_counter()

    def end(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        busy, steal = machine_cpu()
        out = {}
        for name, pid in self.pids.items():
            now, then = cpu_seconds(pid), self.start.get(name)
            if now is not None and then is not None:
                out[name] = round(100 * (now - then) / wall, 1)
        out["others"] = round(max(0.0, 100 * (busy - self.machine[0]) / wall - sum(out.values())), 1)
        out["steal"] = round(100 * (steal - self.machine[1]) / wall, 1)
        return out


# --- Kafka helpers ---------------------------------------------------------------
class Broker:
    """Synchronous admin look-ups (kafka-python), used between the timed phases."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="dealpulse-bench-meta")
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="dealpulse-bench-admin")

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()

    def partitions(self, topic: str) -> list[TopicPartition]:
        found = self.consumer.partitions_for_topic(topic)
        if not found:
            raise BenchFailure(f"topic {topic} does not exist: run `.venv/bin/python -m kernel.topic_admin create`")
        return [TopicPartition(topic, p) for p in sorted(found)]

    def end_offsets(self, topics) -> dict[TopicPartition, int]:
        tps = [tp for t in topics for tp in self.partitions(t)]
        return {TopicPartition(tp.topic, tp.partition): o for tp, o in self.consumer.end_offsets(tps).items()}

    def group_lag(self, group: str = GROUP, topics: tuple[str, ...] = WORKER_TOPICS) -> dict[str, int]:
        tps = [tp for t in topics for tp in self.partitions(t)]
        ends = self.consumer.end_offsets(tps)
        starts = self.consumer.beginning_offsets(tps)
        committed = {(tp.topic, tp.partition): m.offset for tp, m in self.admin.list_group_offsets(group).get(group, {}).items()}
        lag = {}
        for tp in tps:
            position = committed.get((tp.topic, tp.partition), -1)
            if position < 0:
                position = starts[tp]
            if ends[tp] - position:
                lag[f"{tp.topic}[{tp.partition}]"] = ends[tp] - position
        return lag

    def ensure_probe_topic(self) -> None:
        if self.consumer.partitions_for_topic(PROBE_TOPIC):
            return
        try:
            self.admin.create_topics(
                [NewTopic(PROBE_TOPIC, 6, 1, topic_configs={"retention.ms": str(3600 * 1000)})]
            )
        except TopicAlreadyExistsError:
            pass
        deadline = time.monotonic() + 30
        while not self.consumer.partitions_for_topic(PROBE_TOPIC):
            if time.monotonic() > deadline:
                raise BenchFailure(f"could not create {PROBE_TOPIC}")
            self.consumer.topics()  # refresh metadata
            time.sleep(0.2)


async def wait_caught_up(
    broker: Broker,
    what: str,
    timeout: float = 180,
    *,
    worker: str = WORKER,
    groups: tuple[tuple[str, tuple[str, ...]], ...] = WORKER_GROUPS,
) -> None:
    deadline = time.monotonic() + timeout
    for group, topics in groups:
        lag = broker.group_lag(group, topics)
        if lag:
            log(f"{what}: group {group} lags {sum(lag.values())} records; waiting")
        while lag:
            if not stack.pid_of(worker):
                raise BenchFailure(f"{worker} exited; see {stack.RUN / 'logs' / (worker + '.log')}")
            if time.monotonic() > deadline:
                raise BenchFailure(f"{what}: group {group} still lags after {timeout:.0f}s: {lag}")
            await asyncio.sleep(0.5)
            lag = broker.group_lag(group, topics)


def new_producer(bootstrap: str) -> AIOKafkaProducer:
    # What the service's own transport uses (acks=all, idempotent), with bigger batches.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
        max_batch_size=256 * 1024, client_id="dealpulse-bench",
    )


async def produce(producer: AIOKafkaProducer, records: list[tuple[str, bytes, bytes, list]]) -> list[tuple[int, int]]:
    """Send everything pipelined; (partition, offset) of each record once acknowledged."""
    futures = []
    for topic, key, value, headers in records:
        futures.append(await producer.send(topic, value=value, key=key, headers=headers))
    done = await asyncio.gather(*futures)
    return [(m.partition, m.offset) for m in done]


def header(headers, name: str) -> bytes | None:
    for k, v in header_pairs(headers):
        if k == name:
            return v
    return None


# --- projection polling ------------------------------------------------------------
def projection_key(tenant: str, opportunity_id: str) -> str:
    return f"dealpulse:actions:{tenant}:opportunity:{opportunity_id}"


@dataclass
class Placed:
    """Where the bench's records landed: per opportunity its last offset, per partition
    the first and last record (the worker applies one partition in offset order)."""

    last_offset: dict[str, int]  # redis key -> offset of its last record
    first_key: dict[int, str]  # partition -> key of its first record
    last_key: dict[int, tuple[str, int]]  # partition -> (key, offset) of its last record
    start: dict[int, int]
    end: dict[int, int]  # exclusive

    @classmethod
    def of(cls, records: list[Record], placed: list[tuple[int, int]]) -> "Placed":
        last_offset: dict[str, int] = {}
        first_key: dict[int, tuple[str, int]] = {}
        last_key: dict[int, tuple[str, int]] = {}
        for record, (partition, offset) in zip(records, placed):
            tenant, _, opp = record.key.partition("/")
            key = projection_key(tenant, opp)
            last_offset[key] = max(offset, last_offset.get(key, -1))
            if partition not in first_key or offset < first_key[partition][1]:
                first_key[partition] = (key, offset)
            if partition not in last_key or offset > last_key[partition][1]:
                last_key[partition] = (key, offset)
        return cls(
            last_offset,
            {p: k for p, (k, _) in first_key.items()},
            last_key,
            {p: o for p, (_, o) in first_key.items()},
            {p: o + 1 for p, (_, o) in last_key.items()},
        )


def stored_offset(raw: bytes | None) -> int | None:
    if not raw:
        return None
    found = _OFFSET_TAIL.search(raw)
    return int(found.group(1)) if found else None


async def wait_projected(
    redis: Redis, placed: Placed, timeout: float, interval: float = 0.02, on_first=None
) -> tuple[float, float]:
    """Poll until every partition's last bench record is in the projection. Returns the
    perf_counter times at which the first and the last were seen (`on_first` is called
    when the first is seen)."""
    first_seen = None
    pending = dict(placed.last_key)
    deadline = time.perf_counter() + timeout
    checked_alive = time.perf_counter()
    while pending:
        now = time.perf_counter()
        if now > deadline:
            raise BenchFailure(f"projection incomplete after {timeout:.0f}s; partitions pending: {sorted(pending)}")
        if now - checked_alive > 1:
            checked_alive = now
            if not stack.pid_of(WORKER):
                raise BenchFailure(f"{WORKER} exited; see {stack.RUN / 'logs' / (WORKER + '.log')}")
        async with redis.pipeline(transaction=False) as pipe:
            if first_seen is None:
                for key in placed.first_key.values():
                    pipe.exists(key)
            for key, _ in pending.values():
                pipe.getrange(key, -48, -1)
            replies = await pipe.execute()
        seen_at = time.perf_counter()
        if first_seen is None:
            any_applied = any(replies[: len(placed.first_key)]) or any(replies[len(placed.first_key):])
            replies = replies[len(placed.first_key):]
            if any_applied:
                first_seen = seen_at
                if on_first:
                    on_first()
        for (partition, (key, offset)), raw in zip(list(pending.items()), replies):
            found = stored_offset(raw)
            if found is not None and found >= offset:
                del pending[partition]
        if pending:
            await asyncio.sleep(interval)
    return first_seen, time.perf_counter()


async def verify_projection(redis: Redis, placed: Placed) -> None:
    """Every opportunity reflects (at least) its last bench record."""
    keys = list(placed.last_offset)
    behind = []
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        for key, raw in zip(chunk, await redis.mget(chunk)):
            found = stored_offset(raw)
            if found is None or found < placed.last_offset[key]:
                behind.append((key, found, placed.last_offset[key]))
    if behind:
        raise BenchFailure(f"{len(behind)} opportunities do not reflect their last record, e.g. {behind[:3]}")


# --- phase 1a: raw consumption ------------------------------------------------------
async def raw_consume(bootstrap: str, placed: Placed, expected: int) -> dict:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, client_id="dealpulse-bench-raw"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(OPPORTUNITY.name, p) for p in sorted(placed.start)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, placed.start[tp.partition])
        count = undecodable = 0
        started = time.perf_counter()
        first = None
        while count + undecodable < expected:
            if time.perf_counter() - started > 120:
                raise BenchFailure(f"raw consumer read {count} of {expected} records in 120 s")
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batch.items():
                end = placed.end[tp.partition]
                for message in messages:
                    if message.offset >= end:
                        continue
                    first = first or time.perf_counter()
                    try:
                        envelope, payload = decode(events.OpportunityEvent, message.value, message.headers)
                        if envelope.tenant_id != payload.tenant_id:
                            raise EnvelopeError("tenant mismatch")
                        count += 1
                    except EnvelopeError:
                        undecodable += 1
        done = time.perf_counter()
    finally:
        await consumer.stop()
    if count != expected:
        raise BenchFailure(f"raw consumer decoded {count} records, expected {expected} ({undecodable} undecodable)")
    return {
        "records": count,
        "seconds": round(done - started, 3),
        "events_per_s": round(count / (done - started)),
        "first_to_last_events_per_s": round(count / (done - first)),
    }


# --- phase 2 baseline: raw produce -> consume latency --------------------------------
async def raw_latency(bootstrap: str, broker: Broker, k: int) -> dict:
    broker.ensure_probe_topic()
    ends = broker.end_offsets([PROBE_TOPIC])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=500,
        client_id="dealpulse-bench-latency",
    )
    producer = new_producer(bootstrap)
    await consumer.start()
    await producer.start()
    received: list[tuple[float, float]] = []  # (receive wall time, send wall time)
    try:
        consumer.assign(list(ends))
        for tp, offset in ends.items():
            consumer.seek(tp, offset)
        await consumer.getmany(timeout_ms=200)  # fetch sessions up before t0

        async def collect(n: int) -> None:
            while len(received) < n:
                for messages in (await consumer.getmany(timeout_ms=100)).values():
                    at = time.time()
                    received.extend((at, struct.unpack("!d", m.value)[0]) for m in messages)

        # Burst: K records sent at t0 at once, as the clock move releases K alerts at once.
        collector = asyncio.create_task(collect(k))
        t0 = time.time()
        futures = [await producer.send(PROBE_TOPIC, value=struct.pack("!d", time.time()), key=str(i).encode()) for i in range(k)]
        await asyncio.gather(*futures)
        await asyncio.wait_for(collector, 60)
        burst_from_t0 = [r - t0 for r, _ in received]
        burst_per_record = [r - s for r, s in received]
        # One at a time: a single record's produce -> consume hop on an idle path.
        received.clear()
        single = []
        for i in range(min(k, 300)):
            sent = time.time()
            await producer.send_and_wait(PROBE_TOPIC, value=struct.pack("!d", sent), key=str(i).encode())
            await collect(i + 1)
            single.append(received[-1][0] - sent)
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "burst_from_t0": summary_ms(burst_from_t0),
        "burst_per_record": summary_ms(burst_per_record),
        "one_at_a_time": summary_ms(single),
    }


# --- phase 2: event -> alert latency -------------------------------------------------
async def alert_latency(bootstrap: str, broker: Broker, redis: Redis, tenant: str, k: int, keys: set[str]) -> dict:
    ends = broker.end_offsets([ALERT_RAISED.name, OPPORTUNITY.name])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=500,
        client_id="dealpulse-bench-alerts",
    )
    await consumer.start()
    alerts: list[tuple[float, object]] = []
    fired: list[object] = []
    foreign_alerts = 0
    tenant_bytes = tenant.encode()
    try:
        consumer.assign(list(ends))
        for tp, offset in ends.items():
            consumer.seek(tp, offset)
        await consumer.getmany(timeout_ms=200)

        async def collect(stop: asyncio.Event) -> None:
            nonlocal foreign_alerts
            while not stop.is_set():
                for tp, messages in (await consumer.getmany(timeout_ms=100)).items():
                    at = time.time()
                    for m in messages:
                        if header(m.headers, "ce_tenantid") != tenant_bytes:
                            foreign_alerts += tp.topic == ALERT_RAISED.name
                            continue
                        if tp.topic == ALERT_RAISED.name:
                            alerts.append((at, m))
                        else:
                            fired.append(m)

        stop = asyncio.Event()
        collector = asyncio.create_task(collect(stop))
        t0 = time.time()
        await advance_shared_clock(redis, HOURS_49)
        deadline = time.monotonic() + max(120.0, k / 20)
        while len(alerts) < k and time.monotonic() < deadline:
            if collector.done():
                collector.result()
            await asyncio.sleep(0.05)
        complete_at = time.time()
        await asyncio.sleep(3.0)  # anything more would be a duplicate
        stop.set()
        await collector
    finally:
        await consumer.stop()

    decoded = []
    for at, m in alerts:
        envelope, alert = decode(events.AlertRaised, m.value, m.headers)
        decoded.append((at, envelope, alert, m.timestamp / 1000))
    ids = Counter(env.event_id for _, env, _, _ in decoded)
    duplicates = sum(c - 1 for c in ids.values())
    opportunities = {f"{tenant}/{a.opportunity_id}" for _, _, a, _ in decoded}
    if len(ids) != k or duplicates or opportunities != keys:
        missing = len(keys - opportunities)
        raise BenchFailure(
            f"expected exactly {k} alerts, one per opportunity; got {len(decoded)} records, {len(ids)} distinct, "
            f"{duplicates} duplicates, {missing} opportunities without an alert"
        )
    without_manager = sum(not a.manager_id for _, _, a, _ in decoded)
    latencies = [at - t0 for at, _, _, _ in decoded]
    alert_produced = [ts - t0 for _, _, _, ts in decoded]
    stall_produced = [m.timestamp / 1000 - t0 for m in fired]
    return {
        "alerts": len(decoded),
        "duplicates": duplicates,
        "alerts_without_manager": without_manager,
        "stall_events_seen": len(fired),
        "foreign_alerts_seen": foreign_alerts,
        "latency": summary_ms(latencies),
        "first_alert_ms": round(min(latencies) * 1000, 1),
        "all_alerts_in_s": round(complete_at - t0, 3),
        "alerts_per_s": round(k / max(latencies), 1),
        "breakdown": {
            "stall_events_produced_by_sweeper": summary_ms(stall_produced) if stall_produced else None,
            "alert_record_created": summary_ms(alert_produced),
        },
    }


# --- the run -----------------------------------------------------------------------
def machine_facts(settings: Settings) -> dict:
    kafka_pid = pid_from(stack.RUN / "kafka" / "kafka.pid")
    kafka_version = "unknown"
    try:
        found = re.search(rb"kafka-(\d+\.\d+\.\d+)", Path(f"/proc/{kafka_pid}/cmdline").read_bytes())
        kafka_version = found.group(1).decode() if found else kafka_version
    except (OSError, TypeError):
        pass
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "services", "kernel"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip())
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kafka": kafka_version,
        "kafka_broker": "single node, KRaft, deploy/local/kafka.sh, replication factor 1",
        "packages": {p: metadata.version(p) for p in ("aiokafka", "faust-streaming", "redis", "protobuf")},
        "redis_url": settings.redis_url,
        "git": commit + (" (services/ or kernel/ modified)" if dirty else ""),
    }


async def run(args: argparse.Namespace) -> dict:
    settings = Settings()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    tput_tenant, lat_tenant = f"bench-{stamp}-tput", f"bench-{stamp}-lat"
    redis = Redis.from_url(settings.redis_url)
    broker = Broker(settings.kafka_bootstrap)
    producer = new_producer(settings.kafka_bootstrap)
    await producer.start()
    result: dict = {"tenants": [tput_tenant, lat_tenant]}
    try:
        result["machine"] = machine_facts(settings)
        info = await redis.info("server")
        result["machine"]["redis"] = f"{info['redis_version']}, appendfsync={(await redis.config_get('appendfsync'))['appendfsync']}"
        clock = SharedAdjustableClock(redis)
        shared_now = await clock.now()
        log(f"tenants {tput_tenant} (throughput) and {lat_tenant} (latency); shared clock offset "
            f"{float(await redis.get(SHARED_OFFSET_KEY) or 0) / 3600:.0f} h")

        # Generate everything up front, so the timed phases only move bytes.
        shape = OrgShape(opportunities=args.stream_opportunities)
        tput_org = generate_org(args.seed, [tput_tenant], shape)
        lat_org = generate_org(args.seed, [lat_tenant], OrgShape(opportunities=args.opportunities))
        span = args.events / args.rate
        stream = list(activity(tput_org, seed=args.seed, rate=args.rate, count=args.events,
                               start=shared_now - timedelta(seconds=span + 60)))
        if len(stream) != args.events:
            raise BenchFailure(f"the generator closed every opportunity after {len(stream)} events; "
                               "raise --stream-opportunities")
        stream_wire = [r.kafka() for r in stream]
        kinds = Counter(r.payload.WhichOneof("change") for r in stream)
        invalid = sum(1 for r in stream if r.payload.WhichOneof("change") == "action_recorded" and not r.payload.action_recorded.valid)
        result["workload"] = {
            "events": len(stream), "opportunities": len({r.key for r in stream}), "mix": dict(kinds),
            "invalid_actions": invalid, "mean_value_bytes": round(sum(len(w[2]) for w in stream_wire) / len(stream_wire)),
        }
        setup = org_records(tput_org, shared_now, args.seed) + org_records(lat_org, shared_now, args.seed)
        setup.append(policy_record(tput_org.tenants[0], LONG_THRESHOLD, shared_now, args.seed))

        # Catch the worker's group up, and let it apply the org and the policy.
        log(f"starting {WORKER} to catch its group up")
        meter_pids = {"kafka": pid_from(stack.RUN / "kafka" / "kafka.pid"),
                      "redis": pid_from(stack.RUN / "redis" / "redis.pid"), "bench": os.getpid()}
        stack.start(WORKER, {"DEALPULSE_CLOCK": "adjustable"})
        await asyncio.to_thread(stack.wait_ready, [WORKER], 180)
        await wait_caught_up(broker, "before the bench")
        await produce(producer, [r.kafka() for r in setup])
        await wait_caught_up(broker, "org and policy")
        policy = await redis.get(f"dealpulse:actions:{tput_tenant}:policy:process")
        if not policy:
            raise BenchFailure("the throughput tenant's policy is not in the projection")
        log(f"stopping {WORKER}; producing {len(stream)} events")
        stack.stop(WORKER)

        # 1a. Produce the stream, then consume exactly those records raw.
        before = broker.end_offsets([OPPORTUNITY.name])
        started = time.perf_counter()
        placed_at = await produce(producer, stream_wire)
        produce_s = time.perf_counter() - started
        after = broker.end_offsets([OPPORTUNITY.name])
        foreign = sum(after.values()) - sum(before.values()) - len(stream)
        if foreign:
            raise BenchFailure(f"{foreign} records from someone else landed on {OPPORTUNITY.name} during the bench")
        placed = Placed.of(stream, placed_at)
        result["produce"] = {"records": len(stream), "seconds": round(produce_s, 3),
                             "events_per_s": round(len(stream) / produce_s)}
        log(f"produced in {produce_s:.2f}s; raw aiokafka consumption")
        result["baseline_consume"] = await raw_consume(settings.kafka_bootstrap, placed, len(stream))
        log(f"raw produce->consume latency of {args.opportunities} records")
        result["baseline_latency"] = await raw_latency(settings.kafka_bootstrap, broker, args.opportunities)

        # 1b. The worker projects the stream.
        log(f"starting {WORKER}; it has {len(stream)} bench records to apply")
        started = time.perf_counter()
        stack.start(WORKER, {"DEALPULSE_CLOCK": "adjustable"})
        worker_pid = stack.pid_of(WORKER)
        meter = CpuMeter({"worker": worker_pid, **meter_pids})
        # CPU is metered from the first applied record on (start-up excluded).
        first_seen, last_seen = await wait_projected(
            redis, placed, timeout=120 + len(stream) / 100, on_first=meter.begin
        )
        cpu = meter.end()
        await verify_projection(redis, placed)
        applied_s = last_seen - first_seen
        result["slice_consume"] = {
            "records": len(stream),
            "startup_to_first_applied_s": round(first_seen - started, 2),
            "first_to_last_applied_s": round(applied_s, 3),
            "events_per_s": round(len(stream) / applied_s),
            "cpu_percent_of_one_core": cpu,
        }
        log(f"slice applied {len(stream)} events in {applied_s:.2f}s")
        await wait_caught_up(broker, "after the stream")

        # 2. K opened opportunities, the clock moves 49 h, K alerts.
        shared_now = await clock.now()
        opened = openings(lat_org, shared_now - timedelta(seconds=1), args.seed)
        opened_at = await produce(producer, [r.kafka() for r in opened])
        opened_placed = Placed.of(opened, opened_at)
        await wait_projected(redis, opened_placed, timeout=120 + len(opened) / 100)
        await verify_projection(redis, opened_placed)
        members = [r.key for r in opened]
        scores = await redis.zmscore(STALL_DUE_KEY, members)
        if any(s is None for s in scores):
            raise BenchFailure(f"{sum(s is None for s in scores)} of {len(members)} stall timers are not armed")
        await wait_caught_up(broker, "after the openings")
        horizon_ms = int(((await clock.now()) + timedelta(seconds=HOURS_49)).timestamp() * 1000)
        due_total = await redis.zcount(STALL_DUE_KEY, "-inf", horizon_ms)
        log(f"{len(opened)} stall timers armed; moving the shared clock 49 h")
        meter.begin()
        result["slice_latency"] = await alert_latency(
            settings.kafka_bootstrap, broker, redis, lat_tenant, len(opened), set(members)
        )
        result["slice_latency"]["cpu_percent_of_one_core"] = meter.end()
        result["slice_latency"]["other_tenants_timers_due_too"] = due_total - len(opened)
        result["worker_log"] = worker_log_summary(args.worker_log_offset)
    finally:
        if stack.pid_of(WORKER):
            log(f"stopping {WORKER}")
            await asyncio.to_thread(stack.stop, WORKER)
        try:
            if not args.keep_data:
                result["cleaned_up_redis_keys"] = await cleanup(redis, [tput_tenant, lat_tenant])
        finally:
            await producer.stop()
            await redis.aclose()
            broker.close()
    return result


async def cleanup(redis: Redis, tenants: list[str]) -> int:
    """Delete the bench tenants' projection and their armed stall timers (the records
    stay on the topics), so the shared deadline set does not keep growing run after run."""
    deleted = 0
    prefix = f"dealpulse:deadlines:{STALL_DEADLINES}"
    for tenant in tenants:
        keys = [k async for k in redis.scan_iter(match=f"dealpulse:actions:{tenant}:*", count=1000)]
        members = [m async for m, _ in redis.zscan_iter(f"{prefix}:due", match=f"{tenant}/*", count=1000)]
        members += [m async for m, _ in redis.zscan_iter(f"{prefix}:claimed", match=f"{tenant}/*", count=1000)]
        for i in range(0, len(keys), 500):
            deleted += await redis.delete(*keys[i : i + 500])
        for i in range(0, len(members), 500):
            chunk = members[i : i + 500]
            async with redis.pipeline(transaction=True) as tx:
                tx.zrem(f"{prefix}:due", *chunk)
                tx.zrem(f"{prefix}:claimed", *chunk)
                tx.hdel(f"{prefix}:payloads", *chunk, *(m + b"\0deadline" for m in chunk))
                await tx.execute()
            deleted += len(chunk)
    return deleted


def worker_log_summary(offset: int) -> dict:
    path = stack.RUN / "logs" / f"{WORKER}.log"
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return {}
    return {
        "warnings": sum(1 for line in text.splitlines() if "WARNING" in line),
        "errors": sum(1 for line in text.splitlines() if "ERROR" in line),
        "retries": text.count("failed; retrying"),
        "dead_lettered": text.count("dead-lettering"),
        "sweep_timer_overlaps": text.count("sweep_stall_deadlines is overlapping"),
    }


def ratios(result: dict) -> dict:
    slice_eps = result["slice_consume"]["events_per_s"]
    base_eps = result["baseline_consume"]["events_per_s"]
    lat = result["slice_latency"]["latency"]
    burst = result["baseline_latency"]["burst_from_t0"]
    single = result["baseline_latency"]["one_at_a_time"]
    return {
        "throughput_slice_over_baseline": round(slice_eps / base_eps, 4),
        "latency_p50_slice_over_burst_baseline": round(lat["p50_ms"] / burst["p50_ms"], 1),
        "latency_p99_slice_over_burst_baseline": round(lat["p99_ms"] / burst["p99_ms"], 1),
        "latency_p50_slice_over_single_record": round(lat["p50_ms"] / single["p50_ms"], 1),
    }


def table(result: dict) -> str:
    b, s = result["baseline_consume"], result["slice_consume"]
    bl, sl = result["baseline_latency"], result["slice_latency"]
    r = result["ratios"]
    rows = [
        ("figure", "baseline (raw aiokafka)", "slice (actions worker)", "slice/baseline"),
        (f"throughput, {b['records']} events", f"{b['events_per_s']:,} ev/s", f"{s['events_per_s']:,} ev/s",
         f"{r['throughput_slice_over_baseline']:.3f}"),
        (f"latency p50, burst of {sl['alerts']}", f"{bl['burst_from_t0']['p50_ms']:,.1f} ms",
         f"{sl['latency']['p50_ms']:,.1f} ms", f"{r['latency_p50_slice_over_burst_baseline']:g}x"),
        (f"latency p99, burst of {sl['alerts']}", f"{bl['burst_from_t0']['p99_ms']:,.1f} ms",
         f"{sl['latency']['p99_ms']:,.1f} ms", f"{r['latency_p99_slice_over_burst_baseline']:g}x"),
        ("latency max", f"{bl['burst_from_t0']['max_ms']:,.1f} ms", f"{sl['latency']['max_ms']:,.1f} ms", ""),
        ("single record p50 / first alert", f"{bl['one_at_a_time']['p50_ms']:,.1f} ms",
         f"{sl['first_alert_ms']:,.1f} ms", ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def section_header(result: dict) -> list[str]:
    """The opening lines of a results section: when, the command, and the machine."""
    m = result["machine"]
    return [
        f"## {result['finished_at']}",
        "",
        f"`{result['command']}` ({', '.join(f'{k}={v}' for k, v in result['parameters'].items())})",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, Kafka {m['kafka']} "
        f"({m['kafka_broker']}), Redis {m['redis']}; aiokafka {m['packages']['aiokafka']}, "
        f"faust-streaming {m['packages']['faust-streaming']}; git {m['git']}.",
        "",
    ]


def write_results(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "slice.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    w = result["workload"]
    s, sl = result["slice_consume"], result["slice_latency"]
    section = [
        *section_header(result),
        f"N = {result['n']} events over {w['opportunities']} opportunities ({', '.join(f'{k} {v}' for k, v in w['mix'].items())}; "
        f"{w['invalid_actions']} invalid actions; {w['mean_value_bytes']} B mean value), K = {result['k']} opportunities.",
        "",
        table(result),
        "",
        f"- Produce (aiokafka, acks=all, idempotent, batched): {result['produce']['events_per_s']:,} ev/s.",
        f"- Slice: worker start to first applied record {s['startup_to_first_applied_s']} s (not in the figure); "
        f"CPU while applying, % of one core: {cpu(s['cpu_percent_of_one_core'])}.",
        f"- Alerts: all {sl['alerts']} in {sl['all_alerts_in_s']} s ({sl['alerts_per_s']} alerts/s), first after "
        f"{sl['first_alert_ms']} ms; {sl['duplicates']} duplicates; sweeper's expiry events produced at "
        f"p50/max {fmt_breakdown(sl['breakdown']['stall_events_produced_by_sweeper'])} after t0; "
        f"{sl['other_tenants_timers_due_too']} other tenants' timers were due too; CPU, % of one core: "
        f"{cpu(sl['cpu_percent_of_one_core'])}.",
        f"- Raw latency, burst of {result['k']}: per record (send to receive) p50 "
        f"{result['baseline_latency']['burst_per_record']['p50_ms']} ms; one record at a time p50/p99 "
        f"{result['baseline_latency']['one_at_a_time']['p50_ms']}/{result['baseline_latency']['one_at_a_time']['p99_ms']} ms.",
        f"- Worker log during the run: {', '.join(f'{k} {v}' for k, v in result['worker_log'].items())}.",
        "",
    ]
    path = RESULTS / "slice.md"
    if not path.exists():
        path.write_text(
            "# Actions slice benchmark\n\n"
            "Written by `python -m bench.run` (see its docstring for the method); newest run last.\n"
            "Throughput: N events projected by the actions worker (first to last record visible in Redis) "
            "vs raw aiokafka consumption + envelope decoding of the same records. Latency: stall alerts after "
            "moving the shared clock 49 h past K armed timers (receive time - t0) vs K raw records produced at t0.\n\n"
        )
    with open(path, "a") as f:
        f.write("\n".join(section) + "\n")


def cpu(percents: dict) -> str:
    return ", ".join(f"{name} {value:.0f}%" for name, value in percents.items())


def fmt_breakdown(stats: dict | None) -> str:
    return f"{stats['p50_ms']:,.0f}/{stats['max_ms']:,.0f} ms" if stats else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="N: opportunity events for the throughput phase")
    parser.add_argument("--opportunities", type=int, default=2000, help="K: stalled opportunities for the latency phase")
    parser.add_argument("--stream-opportunities", type=int, default=1000, help="opportunities the N events are about")
    parser.add_argument("--rate", type=float, default=50.0, help="event-time rate of the stream (events/s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print, do not write bench/results")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the bench tenants' projection and stall timers in Redis (default: delete them)")
    args = parser.parse_args()
    command = " ".join(["python -m bench.run", *(shlex.quote(a) for a in sys.argv[1:])])

    with StackLock():
        running = [name for name in stack.WORKLOADS if stack.pid_of(name)]
        if running:
            sys.exit(f"bench: someone else's stack is up ({', '.join(running)}); "
                     "stop it (make down) or wait until their tests finish")
        log_path = stack.RUN / "logs" / f"{WORKER}.log"
        args.worker_log_offset = log_path.stat().st_size if log_path.exists() else 0
        try:
            result = asyncio.run(run(args))
        except BenchFailure as exc:
            sys.exit(f"bench FAILED: {exc}")
        finally:
            if stack.pid_of(WORKER):
                log(f"stopping {WORKER}")
                stack.stop(WORKER)
    result.update(
        command=command, n=args.events, k=args.opportunities,
        parameters={k: v for k, v in vars(args).items() if k != "worker_log_offset"},
        finished_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    result["ratios"] = ratios(result)
    result = {k: result[k] for k in ("finished_at", "command", "n", "k", *[k for k in result if k not in
              ("finished_at", "command", "n", "k")])}
    if args.no_write:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        write_results(result)
    print()
    print(table(result))
    print(f"\nalerts: {result['slice_latency']['alerts']} of {result['k']}, all in {result['slice_latency']['all_alerts_in_s']} s; "
          f"results: {'(not written)' if args.no_write else RESULTS / 'slice.md'}")


if __name__ == "__main__":
    main()
